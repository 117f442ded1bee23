//! Feeds arbitrary bytes to the request parser in arbitrary pieces: it must never panic, and
//! every command it returns must have at least one argument.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rustis_resp::Parser;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let cut = (split as usize).min(rest.len());
    let mut parser = Parser::new();
    let mut buf = BytesMut::new();
    let mut cmds = Vec::new();
    for piece in [&rest[..cut], &rest[cut..]] {
        buf.extend_from_slice(piece);
        if parser.parse_batch(&mut buf, &mut cmds).is_err() {
            break;
        }
    }
    assert!(cmds.iter().all(|c| !c.is_empty()));
});
