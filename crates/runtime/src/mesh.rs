//! The mesh's two cheap paths: waking a thread only when it sleeps ([`Doorbell`]), and
//! carrying a batch's replies home as a message ([`Replies`], [`BatchWait`]).
//!
//! A Tokio channel wakes its receiving task on every send, and waking a task of another
//! thread's runtime always writes that runtime's eventfd: a system call on the sending side and
//! an `epoll_wait` return on the other, twice per cross-thread request (the batch out, its
//! reply back), even when both threads are busy and would have seen the message anyway. Here
//! nothing registers a waker on the mesh queues; a thread drains them before its own work
//! (`Worker::drain_inbox`) and before it sleeps, and a sender rings the receiver's doorbell
//! only when the receiver is parked, or about to be.
//!
//! **Invariant.** A message is never left in a queue while its receiver sleeps: the sender
//! sets `pending` and then reads `parked`; the receiver sets `parked` (in Tokio's
//! `on_thread_park` hook, just before it blocks in `epoll_wait`) and then reads `pending`. Both
//! are sequentially consistent, so at least one of them sees the other's write and rings.

use std::cell::RefCell;
use std::future::Future;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::task::{Context, Poll, Waker};

use crate::worker::BatchReply;

/// One thread's doorbell: an eventfd its mesh task waits on, and the flags that decide whether
/// a sender needs to ring it.
pub(crate) struct Doorbell {
    /// The thread is parked in its event loop, or about to be.
    parked: AtomicBool,
    /// Messages were posted to the thread since it last began draining its queues.
    pending: AtomicBool,
    fd: OwnedFd,
}

impl Doorbell {
    pub fn new() -> std::io::Result<Doorbell> {
        // SAFETY: eventfd takes no pointers; a negative return is an error, checked below.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Doorbell {
            parked: AtomicBool::new(false),
            pending: AtomicBool::new(false),
            // SAFETY: `fd` was just created and is owned by nothing else.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// A message was posted to this doorbell's thread: wakes it if it sleeps.
    pub fn posted(&self) {
        self.pending.store(true, SeqCst);
        if self.parked.load(SeqCst) {
            self.ring();
        }
    }

    /// The thread is about to block in its event loop (Tokio's `on_thread_park`): if messages
    /// came since it last drained, it rings itself so that the block returns at once.
    pub fn before_park(&self) {
        self.parked.store(true, SeqCst);
        if self.pending.load(SeqCst) {
            self.ring();
        }
    }

    /// The thread is running again (Tokio's `on_thread_unpark`).
    pub fn after_unpark(&self) {
        self.parked.store(false, SeqCst);
    }

    /// The thread starts draining its queues: what is posted from now on is seen by this
    /// drain or makes the next park return at once. (A swap, not a store: reading the sender's
    /// write makes its message visible to the drain that follows.)
    pub fn draining(&self) {
        if self.pending.load(std::sync::atomic::Ordering::Relaxed) {
            self.pending.swap(false, SeqCst);
        }
    }

    fn ring(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to our eventfd. A full counter (EAGAIN) still
        // leaves the fd readable, which is all a ring needs.
        unsafe {
            libc::write(
                self.fd.as_raw_fd(),
                (&one as *const u64).cast(),
                std::mem::size_of::<u64>(),
            );
        }
    }

    /// Resets the eventfd's counter after a ring woke the thread.
    pub fn clear(&self) {
        let mut v: u64 = 0;
        // SAFETY: reads at most 8 bytes into a live u64; EAGAIN (nothing rung) is fine.
        unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                (&mut v as *mut u64).cast(),
                std::mem::size_of::<u64>(),
            );
        }
    }
}

/// A doorbell's descriptor as the mesh task registers it with its event loop: it keeps the
/// doorbell, and so the descriptor, alive while registered.
pub(crate) struct BellFd(pub std::sync::Arc<Doorbell>);

impl AsRawFd for BellFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.fd.as_raw_fd()
    }
}

/// Where a batch's replies go: the thread that sent it, and the slot waiting there.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReplyTo {
    pub home: usize,
    pub token: usize,
}

enum Slot {
    Free,
    /// Waiting, with the waiting task's waker once it has polled.
    Waiting(Option<Waker>),
    /// Answered; `None` when the other thread is gone (shutdown).
    Ready(Option<Box<BatchReply>>),
    /// The waiting side gave up (its connection closed): the reply is dropped on arrival.
    Abandoned,
}

/// This thread's batches waiting for their replies, by token.
#[derive(Default)]
pub(crate) struct Replies {
    slots: Vec<Slot>,
    free: Vec<usize>,
}

impl Replies {
    /// A slot for a batch about to be sent.
    pub fn open(&mut self) -> usize {
        match self.free.pop() {
            Some(t) => {
                self.slots[t] = Slot::Waiting(None);
                t
            }
            None => {
                self.slots.push(Slot::Waiting(None));
                self.slots.len() - 1
            }
        }
    }

    /// The reply to `token` arrived (`None`: it never will). Returns the waker to wake, which
    /// the caller wakes once this table is no longer borrowed.
    pub fn fill(&mut self, token: usize, r: Option<Box<BatchReply>>) -> Option<Waker> {
        let slot = self.slots.get_mut(token)?;
        match std::mem::replace(slot, Slot::Free) {
            Slot::Waiting(waker) => {
                *slot = Slot::Ready(r);
                waker
            }
            Slot::Abandoned => {
                self.free.push(token);
                None
            }
            other => {
                // Answered twice cannot happen; keep what is there.
                *slot = other;
                None
            }
        }
    }

    fn poll(&mut self, token: usize, cx: &mut Context<'_>) -> Poll<Option<Box<BatchReply>>> {
        let Some(slot) = self.slots.get_mut(token) else {
            return Poll::Ready(None);
        };
        match slot {
            Slot::Ready(_) => {
                let Slot::Ready(r) = std::mem::replace(slot, Slot::Free) else {
                    unreachable!("matched Ready")
                };
                self.free.push(token);
                Poll::Ready(r)
            }
            Slot::Waiting(w) => {
                if !w.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *w = Some(cx.waker().clone());
                }
                Poll::Pending
            }
            Slot::Free | Slot::Abandoned => Poll::Ready(None),
        }
    }

    fn abandon(&mut self, token: usize) {
        if let Some(slot) = self.slots.get_mut(token) {
            match slot {
                Slot::Waiting(_) => *slot = Slot::Abandoned,
                Slot::Ready(_) => {
                    *slot = Slot::Free;
                    self.free.push(token);
                }
                Slot::Free | Slot::Abandoned => {}
            }
        }
    }
}

/// Fills `token` in `replies` and wakes whoever waits for it.
pub(crate) fn fill(replies: &RefCell<Replies>, token: usize, r: Option<Box<BatchReply>>) {
    let waker = replies.borrow_mut().fill(token, r);
    if let Some(w) = waker {
        w.wake();
    }
}

/// The replies to a batch sent with `Worker::send_batch`: `None` if the thread it went to has
/// stopped (shutdown).
pub(crate) struct BatchWait {
    replies: Rc<RefCell<Replies>>,
    token: usize,
    done: bool,
}

impl BatchWait {
    pub fn new(replies: Rc<RefCell<Replies>>, token: usize) -> BatchWait {
        BatchWait {
            replies,
            token,
            done: false,
        }
    }
}

impl Future for BatchWait {
    type Output = Option<Box<BatchReply>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let r = self.replies.borrow_mut().poll(self.token, cx);
        if r.is_ready() {
            self.done = true;
        }
        r
    }
}

impl Drop for BatchWait {
    fn drop(&mut self) {
        if !self.done {
            self.replies.borrow_mut().abandon(self.token);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_reused_once_its_reply_is_taken_or_dropped() {
        let replies = Rc::new(RefCell::new(Replies::default()));
        let t = replies.borrow_mut().open();
        fill(&replies, t, Some(Box::default()));
        let mut wait = BatchWait::new(replies.clone(), t);
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(matches!(
            Pin::new(&mut wait).poll(&mut cx),
            Poll::Ready(Some(_))
        ));
        drop(wait);
        assert_eq!(replies.borrow_mut().open(), t, "the slot is free again");
        // Abandoned before its reply: the reply frees it when it comes.
        drop(BatchWait::new(replies.clone(), t));
        assert!(replies.borrow().free.is_empty());
        fill(&replies, t, Some(Box::default()));
        assert_eq!(replies.borrow().free, vec![t]);
    }

    #[test]
    fn a_doorbell_rings_only_for_a_parked_thread() {
        let bell = Doorbell::new().expect("eventfd");
        let readable = |b: &Doorbell| {
            let mut v: u64 = 0;
            // SAFETY: as in `clear`.
            let n = unsafe {
                libc::read(
                    b.fd.as_raw_fd(),
                    (&mut v as *mut u64).cast(),
                    std::mem::size_of::<u64>(),
                )
            };
            n == 8
        };
        bell.posted();
        assert!(!readable(&bell), "a running thread is not rung");
        // It parks with a message it has not drained: it rings itself.
        bell.before_park();
        assert!(readable(&bell));
        bell.after_unpark();
        bell.draining();
        bell.before_park();
        assert!(!readable(&bell), "nothing new: it sleeps");
        bell.posted();
        assert!(readable(&bell), "a parked thread is rung");
    }
}
