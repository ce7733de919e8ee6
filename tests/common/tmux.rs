//! A real terminal for tests: a tmux server of its own (socket `-L NAME`) with one session
//! running a shell script, read with `capture-pane` and driven with `send-keys`; the server
//! is killed on drop.

#![allow(dead_code)]

use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long a wait for the screen lasts before the test fails.
const WAIT: Duration = Duration::from_secs(20);

/// The session's name on its own server.
const SESSION: &str = "s";

/// A tmux server with one session.
pub struct Tmux {
    socket: String,
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

impl Tmux {
    /// Starts a server named after `tag` and this process, with one `w`x`h` session running
    /// `script`.
    pub fn start(tag: &str, w: u16, h: u16, script: &str) -> Self {
        let t = Self {
            socket: format!("dpuctl-{tag}-{}", std::process::id()),
        };
        let (w, h) = (w.to_string(), h.to_string());
        let o = t.cmd(&[
            "new-session",
            "-d",
            "-s",
            SESSION,
            "-x",
            &w,
            "-y",
            &h,
            script,
        ]);
        assert!(
            o.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        t
    }

    /// Any tmux command on this server.
    pub fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux (Debian package tmux)")
    }

    /// Keeps `lines` lines of scrollback for [`Tmux::history`].
    pub fn history_limit(&self, lines: u32) {
        let n = lines.to_string();
        self.cmd(&["set-option", "-t", SESSION, "history-limit", &n]);
    }

    /// What the pane shows now.
    pub fn screen(&self) -> String {
        stdout(&self.cmd(&["capture-pane", "-p", "-t", SESSION]))
    }

    /// The pane with its scrollback (up to 2000 lines).
    pub fn history(&self) -> String {
        stdout(&self.cmd(&["capture-pane", "-p", "-S", "-2000", "-t", SESSION]))
    }

    /// A tmux format of the pane (`#{pane_pid}`, `#{alternate_on}`, ...), trimmed.
    pub fn format(&self, f: &str) -> String {
        stdout(&self.cmd(&["display-message", "-p", "-t", SESSION, f]))
            .trim()
            .to_string()
    }

    /// Sends keys (tmux key names: "Enter", "Escape", "C-c", or text).
    pub fn keys(&self, keys: &[&str]) {
        let mut a = vec!["send-keys", "-t", SESSION];
        a.extend_from_slice(keys);
        let o = self.cmd(&a);
        assert!(
            o.status.success(),
            "send-keys: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    /// Waits until the screen satisfies `ok`; returns it.
    pub fn wait(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        wait_on(|| self.screen(), what, ok)
    }

    /// Waits until the screen shows `needle`.
    pub fn wait_for(&self, needle: &str) -> String {
        self.wait(&format!("{needle:?}"), |s| s.contains(needle))
    }

    /// Waits until the scrollback shows `needle` `count` times; returns the scrollback.
    pub fn wait_history(&self, needle: &str, count: usize) -> String {
        wait_on(
            || self.history(),
            &format!("{needle:?} {count} times"),
            |s| s.matches(needle).count() >= count,
        )
    }
}

/// Waits until `read()` satisfies `ok`; returns what it read.
fn wait_on(read: impl Fn() -> String, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let s = read();
        if ok(&s) {
            return s;
        }
        assert!(
            start.elapsed() < WAIT,
            "the terminal never showed {what}:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}
