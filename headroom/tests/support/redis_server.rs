//! A real `redis-server` on a free loopback port, for tests and benchmarks; stopped on drop.
//! `scripts/setup.sh` installs it; without it tests are skipped outside CI and fail in CI
//! ([`RedisServer::start_if_installed`]), benchmarks fail.
// Shared by several test binaries and the benchmark; each uses part of it.
#![allow(dead_code)]

/// Whether a missing tool skips or fails a test (also for tests that need other tools).
#[path = "extras.rs"]
pub mod extras;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One redis-server process of this test.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: std::path::PathBuf,
}

impl RedisServer {
    /// Starts a server with no persistence on a free port of 127.0.0.1 and waits until it answers PING.
    pub fn start() -> RedisServer {
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free loopback port")
                .port();
            let dir =
                std::env::temp_dir().join(format!("headroom-redis-{}-{port}", std::process::id()));
            let mut server = RedisServer {
                child: None,
                port,
                dir,
            };
            match server.spawn() {
                Ok(()) => return server,
                Err(e) => last_error = e,
            }
        }
        panic!("redis-server did not come up on a loopback port: {last_error}");
    }

    /// [`RedisServer::start`] when `redis-server` is on `PATH`; otherwise `None` and, outside CI, a
    /// printed skip (in CI a failure).
    pub fn start_if_installed() -> Option<RedisServer> {
        extras::available(
            "redis-server",
            extras::on_path("redis-server"),
            "run `bash scripts/setup.sh` (apt-get install redis-server)",
        )
        .then(RedisServer::start)
    }

    /// Starts the stopped server again on the same port (empty: it keeps nothing on disk).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn().unwrap_or_else(|e| {
            panic!("redis-server did not come back on port {}: {e}", self.port)
        });
    }

    fn spawn(&mut self) -> Result<(), String> {
        std::fs::create_dir_all(&self.dir).expect("a temp dir for redis");
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start redis-server ({e}); install it with `bash scripts/setup.sh` (apt-get install redis-server)")
            });
        self.child = Some(child);
        self.wait_ready()
    }

    /// `redis://127.0.0.1:PORT`, with `/DB` when asked.
    pub fn url(&self, db: Option<u8>) -> String {
        match db {
            Some(db) => format!("redis://127.0.0.1:{}/{db}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// Stops the server (to see what clients do when their store is down).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(format!("redis-server exited: {status}"));
                }
            }
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
                let mut buf = [0u8; 7];
                if s.write_all(b"PING\r\n").is_ok()
                    && s.read_exact(&mut buf).is_ok()
                    && &buf == b"+PONG\r\n"
                {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                self.stop();
                return Err("no PONG within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
