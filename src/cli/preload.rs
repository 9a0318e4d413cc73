//! `preload serve`: preloaders kept beyond a run, so that runs started
//! meanwhile fork their agents at once instead of importing ACA-Py first
//! (a cold one-case run pays the imports otherwise: about a second).

use super::{bad_input, failed, say, Terminal, EXIT_FAILED};
use crate::agents::preload::{self, Preloader};
use crate::agents::process::ProcessProvider;
use crate::agents::version::Release;
use crate::agents::{ready_timeout, Notices};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// The longest path a Unix socket can be bound to (`sun_path`, less its NUL).
const SOCKET_PATH_MAX: usize = 107;

pub(super) async fn serve(versions: &[String], terminal: &Terminal) -> u8 {
    let mut releases = Vec::new();
    for v in versions {
        match Release::parse(v) {
            Ok(r) => releases.push(r),
            Err(e) => return bad_input(format!("error: {e}"), terminal),
        }
    }
    // The first signal ends the serving below, not the process at once.
    terminal
        .interrupts
        .defer("stopping the preloaders and their agents");
    let notices = Notices::default();
    let mut served: Vec<(Preloader, PathBuf)> = Vec::new();
    for release in &releases {
        let provider = ProcessProvider::new(release.clone());
        let (venv, installing) = (provider.venv().clone(), notices.clone());
        match tokio::task::spawn_blocking(move || venv.ensure(&installing)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return failed(format!("ACA-Py {release}: {e:#}")),
            Err(e) => return failed(e),
        }
        let python = provider.venv().path().join("bin/python");
        let socket = preload::socket_path(&python);
        if socket.as_os_str().len() > SOCKET_PATH_MAX {
            return failed(format!(
                "ACA-Py {release}: the socket path {} is longer than a Unix socket's {SOCKET_PATH_MAX} bytes; \
                 set ACAPY_HARNESS_CACHE to a shorter folder",
                socket.display()
            ));
        }
        if UnixStream::connect(&socket).is_ok() {
            return failed(format!(
                "ACA-Py {release}: a preloader already serves at {} (another `preload serve`)",
                socket.display()
            ));
        }
        // Left by a `preload serve` that was SIGKILLed.
        let _ = std::fs::remove_file(&socket);
        let modules = preload::module_list(release);
        let preloader =
            match Preloader::serve(release, &python, &modules, ready_timeout(), &socket).await {
                Ok(p) => p,
                Err(e) => {
                    return failed(format!(
                        "ACA-Py {release}: the preloader did not start: {e}"
                    ))
                }
            };
        say(&format!(
            "ACA-Py {release}: imported in {:.2} s, serving at {} (pid {})",
            preloader.import_seconds,
            socket.display(),
            preloader.pid()
        ));
        served.push((preloader, socket));
    }
    say(
        "runs with `--agent-start preloaded` (the default) fork their agents from these \
         until Ctrl-C or SIGTERM ends them, with every agent they forked",
    );
    let mut code = 0;
    loop {
        tokio::select! {
            _ = terminal.cancel.cancelled() => break,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        if let Some((gone, _)) = served.iter().find(|(p, _)| !p.is_alive()) {
            eprintln!(
                "error: the preloader (pid {}) ended{}",
                gone.pid(),
                gone.log_tail()
            );
            code = EXIT_FAILED;
            break;
        }
    }
    for (preloader, socket) in served {
        drop(preloader);
        let _ = std::fs::remove_file(&socket);
        let _ = std::fs::remove_file(socket.with_extension("log"));
    }
    code
}
