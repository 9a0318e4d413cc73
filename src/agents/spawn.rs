//! Where child processes are forked from.
//!
//! Agents get `PR_SET_PDEATHSIG = SIGKILL` so that a SIGKILLed harness
//! takes them down. Linux sends that signal when the *thread* that forked
//! the child exits, not the process: an agent forked from a libtest worker
//! (which ends when the list of tests runs dry) or from a tokio blocking
//! thread (which ends after 10 s idle) would be killed under the cases still
//! using it. So every child is forked from one thread that lives as long as
//! the harness process, and dies with it.

use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use tokio::process::{Child, Command};

/// A command to fork, the runtime whose reactor will reap the child, and
/// where to send the child back.
type Request = (
    Command,
    tokio::runtime::Handle,
    mpsc::Sender<std::io::Result<Child>>,
);

/// Spawns `command` from the process-wide spawner thread. Must be called
/// within a tokio runtime (the child is reaped by it).
pub fn spawn(mut command: Command) -> std::io::Result<Child> {
    unsafe {
        // Die with the harness, even when it is SIGKILLed.
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (reply, answer) = mpsc::channel();
    let request = (command, tokio::runtime::Handle::current(), reply);
    spawner()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send(request)
        .map_err(|_| std::io::Error::other("the spawner thread is gone"))?;
    answer
        .recv()
        .map_err(|_| std::io::Error::other("the spawner thread is gone"))?
}

/// The channel to the spawner thread, started on first use. The thread
/// waits on a channel whose sender lives in a static, so it never ends
/// before the process does.
fn spawner() -> &'static Mutex<mpsc::Sender<Request>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Request>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (requests, incoming) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("acapy-harness-spawner".into())
            .spawn(move || {
                for (mut command, runtime, reply) in incoming {
                    let _in_runtime = runtime.enter();
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("the spawner thread starts");
        Mutex::new(requests)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the thread of an agent's start ends with must not end the agent.
    #[test]
    fn a_child_outlives_the_thread_that_asked_for_it_and_is_reaped() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let handle = runtime.handle().clone();
        let child = std::thread::spawn(move || {
            let _in_runtime = handle.enter();
            let mut command = Command::new("sleep");
            command.arg("30").kill_on_drop(true);
            spawn(command).expect("sleep starts")
        })
        .join()
        .unwrap();
        let pid = child.id().expect("running");
        // PDEATHSIG is asynchronous: give it time to act, had it been sent.
        std::thread::sleep(std::time::Duration::from_millis(300));
        let mut child = child;
        assert!(
            runtime
                .block_on(async { child.try_wait() })
                .unwrap()
                .is_none(),
            "pid {pid} ended with the thread that asked for it"
        );
        let status = runtime.block_on(async {
            child.start_kill().unwrap();
            child.wait().await.unwrap()
        });
        assert!(!status.success(), "killed: {status}");
    }
}
