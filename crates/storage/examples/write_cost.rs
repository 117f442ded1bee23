//! Instruction-count probe for the keyspace write path (docs/write-path.md): each mode runs
//! `N` operations on random keys of a database of 100,000 keys inside `measure`, which
//! callgrind's `--toggle-collect` isolates from the setup:
//!
//! ```text
//! cargo build --release -p rustis-storage --example write_cost
//! valgrind --tool=callgrind --toggle-collect='*measure*' \
//!     target/release/examples/write_cost modify [track|watch]
//! ```
//!
//! Modes: `get`, `insert` (overwrite), `modify` (a string changed in place through its
//! guard), `remove`. A second argument `track` turns memory tracking on, `watch` watches one
//! unrelated key, to show what an observer costs every write.
use rustis_storage::string::StrValue;
use rustis_storage::{Db, Value};

const KEYS: usize = 100_000;
const N: usize = 200_000;

fn key(i: usize) -> [u8; 16] {
    let mut k = *b"key:000000000000";
    let mut v = i;
    for b in k[4..].iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
    k
}

#[inline(never)]
fn measure(db: &mut Db, keys: &[[u8; 16]], mode: &str) -> usize {
    let mut n = 0;
    match mode {
        "get" => {
            for k in keys {
                n += db.get(k).is_some() as usize;
            }
        }
        "insert" => {
            for k in keys {
                db.insert(k, Value::Str(StrValue::Int(7)), None);
            }
        }
        "modify" => {
            for (i, k) in keys.iter().enumerate() {
                if let Ok(Some(mut s)) = db.get_str_mut(k) {
                    *s = StrValue::Int(i as i64);
                    n += 1;
                }
            }
        }
        "remove" => {
            for k in keys {
                n += db.remove(k).is_some() as usize;
            }
        }
        _ => panic!("unknown mode {mode}: get, insert, modify or remove"),
    }
    n
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "get".into());
    let mut db = Db::new();
    for i in 0..KEYS {
        db.insert(&key(i), Value::Str(StrValue::Int(1)), None);
    }
    while db.rehash_step(1024) {}
    match std::env::args().nth(2).as_deref() {
        Some("watch") => {
            db.watch(b"unrelated");
        }
        Some("track") => db.set_memory_tracking(true),
        _ => {}
    }
    let mut x: u64 = 88172645463325252;
    let keys: Vec<[u8; 16]> = (0..N)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            key((x % KEYS as u64) as usize)
        })
        .collect();
    println!("{}", measure(&mut db, &keys, &mode));
}
