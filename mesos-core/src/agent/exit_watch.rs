//! Waiting, without a thread per process, for a container's first process to exit: a
//! pidfd (Linux 5.3+) becomes readable when its process terminates; on older kernels the
//! process is polled.

use std::os::fd::{FromRawFd, OwnedFd};
use std::time::Duration;

use tokio::io::unix::AsyncFd;

/// How often a process is polled when pidfds are unavailable.
const POLL: Duration = Duration::from_millis(50);

/// Resolves once process `pid` has exited (a child of this process or not).
pub async fn exited(pid: i32) {
    match pidfd(pid) {
        // SAFETY: the AsyncFd owns the pidfd, which stays open until it is dropped.
        Some(fd) => {
            match unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) } {
                Ok(fd) => {
                    let _ = fd.readable().await;
                }
                Err(_) => poll(pid).await,
            }
        }
        None => poll(pid).await,
    }
}

fn pidfd(pid: i32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: the kernel just gave us this fd; we own it.
    Some(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Polls until `pid` is gone or a zombie.
async fn poll(pid: i32) {
    while crate::agent::containerizer::procfs::is_running(pid) {
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolves_when_the_child_exits() {
        let mut child = std::process::Command::new("sleep")
            .arg("0.2")
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        tokio::time::timeout(Duration::from_secs(10), exited(pid))
            .await
            .expect("noticed the exit");
        assert!(child.wait().unwrap().success());
        tokio::time::timeout(Duration::from_secs(10), poll(pid))
            .await
            .expect("a reaped process is gone");
    }
}
