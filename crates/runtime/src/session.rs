//! `Session`: the state of one connection that commands can change (selected database,
//! protocol, name), and the flag that closes it.

use std::cell::RefCell;
use std::rc::Rc;

use rustis_storage::DbIndex;

use crate::clients::ClientInfo;

/// One connection's state.
pub(crate) struct Session {
    pub id: u64,
    pub db: DbIndex,
    pub closing: bool,
    pub last_cmd: &'static str,
    pub info: Rc<RefCell<ClientInfo>>,
}
