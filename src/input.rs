//! Files that others may have written: profiles, snapshots, recordings, monitor configs.
//!
//! dpuctl runs as root and reads files copied from other nodes or dropped into shared
//! directories, so every input has a bound, enforced before anything is allocated for it, and
//! an error that names the bound. The bounds are listed in README.md ("Input limits"); the
//! constants here are the single place they are set.
//!
//! Inputs are read only from regular files: a FIFO, a device (`/dev/zero`, `/dev/urandom`) or
//! a directory is refused without reading from it (the open itself never blocks).

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Largest profile file (a shipped profile is a few KiB).
pub const MAX_PROFILE_BYTES: u64 = 1 << 20;
/// Largest number of `extends` levels below a profile (a chain longer than this is refused).
pub const MAX_EXTENDS_DEPTH: usize = 32;
/// Largest number of distinct profiles one profile may be made of (itself and everything it
/// extends, directly or not).
pub const MAX_EXTENDS_PROFILES: usize = 256;
/// Largest number of entries in one `extends` list.
pub const MAX_EXTENDS_LIST: usize = 64;
/// Largest snapshot file (a 64-interface node with 128 queues each is about 10 MiB).
pub const MAX_SNAPSHOT_BYTES: u64 = 64 << 20;
/// Largest `--config` file of the monitor.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// Largest CPU list or mask, in bytes of text (8192 CPUs need about 2.3 KiB as a mask and
/// 40 KiB as a list of single CPUs).
pub const MAX_CPU_TEXT: usize = 64 << 10;
/// Largest queue index: the kernel keeps an skb's queue in 16 bits (`skb->queue_mapping`).
pub const MAX_QUEUE_INDEX: u32 = 65_535;
/// Longest line of a recording (one sample of every interface and counter).
pub const MAX_RECORD_LINE: usize = 16 << 20;
/// Longest excerpt of an input quoted in an error message.
pub const EXCERPT_CHARS: usize = 40;

/// Why an input file was not read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The open, stat or read failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// Not a regular file.
    #[error("is {0}, not a regular file")]
    NotRegular(&'static str),
    /// Larger than the bound.
    #[error("is larger than the {limit} limit for {what}")]
    TooLarge {
        /// The bound, human-readable (`1 MiB`).
        limit: String,
        /// What kind of input (`profiles`).
        what: &'static str,
    },
    /// Not UTF-8 text.
    #[error("is not UTF-8 text (byte offset {0})")]
    NotText(usize),
}

impl InputError {
    /// The underlying I/O error kind, when there is one.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            Self::Io(e) => Some(e.kind()),
            _ => None,
        }
    }
}

/// What a file type is, in words, for an error message.
fn kind_of(ft: std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// `n` bytes in binary units for a limit: `1 MiB`, `64 KiB`, `512 B`.
fn limit_text(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} B")
    }
}

/// Opens `path` for reading if it is a regular file. The open uses `O_NONBLOCK` so that a FIFO
/// planted at `path` cannot hang it; the type check follows on the open descriptor, so the
/// file cannot be swapped between the check and the read.
pub fn open_regular(path: &Path) -> Result<File, InputError> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let ft = f.metadata()?.file_type();
    if !ft.is_file() {
        return Err(InputError::NotRegular(kind_of(ft)));
    }
    Ok(f)
}

/// Reads the regular file at `path`, refusing one above `max` bytes (`what` names the kind of
/// input in the error: "profiles"). The size is checked before reading and the read stops at
/// the bound, so a file that grows while it is read is refused too.
pub fn read_bytes(path: &Path, max: u64, what: &'static str) -> Result<Vec<u8>, InputError> {
    let f = open_regular(path)?;
    let too_large = || InputError::TooLarge {
        limit: limit_text(max),
        what,
    };
    let len = f.metadata()?.len();
    if len > max {
        return Err(too_large());
    }
    let mut buf = Vec::with_capacity(len as usize);
    f.take(max + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Err(too_large());
    }
    Ok(buf)
}

/// [`read_bytes`] as UTF-8 text.
pub fn read_text(path: &Path, max: u64, what: &'static str) -> Result<String, InputError> {
    String::from_utf8(read_bytes(path, max, what)?)
        .map_err(|e| InputError::NotText(e.utf8_error().valid_up_to()))
}

/// At most [`EXCERPT_CHARS`] characters of `s`, with control characters escaped and `...`
/// where it was cut: enough to find the offending token, never a file's contents.
pub fn excerpt(s: &str) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == EXCERPT_CHARS {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// `msg` with every quoted part (`'...'`, `"..."` or `` `...` ``) cut to an [`excerpt`]: a
/// message about a file others wrote names the offending token, never quotes the file.
pub fn shorten_quoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len().min(1024));
    let mut rest = msg;
    while let Some(open) = rest.find(['\'', '"', '`']) {
        out.push_str(&rest[..=open]);
        let q = rest[open..].chars().next().unwrap_or('\'');
        let after = &rest[open + 1..];
        let (inner, tail) = match after.find(q) {
            Some(close) => (&after[..close], &after[close..]),
            None => (after, ""),
        };
        out.push_str(&excerpt(inner));
        if let Some(t) = tail.strip_prefix(q) {
            out.push(q);
            rest = t;
        } else {
            rest = tail;
        }
    }
    out.push_str(&excerpt_long(rest));
    out
}

/// Unquoted text longer than a line of a message is cut too.
fn excerpt_long(s: &str) -> String {
    if s.chars().count() <= 4 * EXCERPT_CHARS {
        return s.to_string();
    }
    let cut: String = s.chars().take(4 * EXCERPT_CHARS).collect();
    format!("{cut}...")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("f");
        std::fs::write(&p, "hello").expect("write");
        assert_eq!(read_text(&p, 5, "tests").expect("read"), "hello");
        assert!(matches!(
            read_text(&p, 4, "tests"),
            Err(InputError::TooLarge { .. })
        ));
        assert_eq!(
            read_text(dir.path(), 100, "tests")
                .expect_err("dir")
                .to_string(),
            "is a directory, not a regular file"
        );
        let e = read_bytes(Path::new("/dev/zero"), 100, "tests").expect_err("device");
        assert_eq!(e.to_string(), "is a character device, not a regular file");
        let fifo = dir.path().join("fifo");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        )
        .expect("mkfifo");
        // No writer: a blocking open would hang here.
        assert_eq!(
            read_bytes(&fifo, 100, "tests")
                .expect_err("fifo")
                .to_string(),
            "is a FIFO, not a regular file"
        );
        assert_eq!(
            read_bytes(&p, 1 << 20, "profiles")
                .map(|b| b.len())
                .expect("read"),
            5
        );
        assert_eq!(
            read_text(&p, 2, "profiles").expect_err("big").to_string(),
            "is larger than the 2 B limit for profiles"
        );
        assert_eq!(limit_text(1 << 20), "1 MiB");
        assert_eq!(limit_text(64 << 10), "64 KiB");
    }

    #[test]
    fn quoted_parts_are_shortened() {
        let long =
            "root:x:0:0:root:/root:/bin/bash daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin";
        let m = shorten_quoted(&format!("expected a profile, got '{long}'"));
        assert_eq!(
            m,
            "expected a profile, got 'root:x:0:0:root:/root:/bin/bash daemon:x...'"
        );
        assert_eq!(
            shorten_quoted("unknown key 'ring', did you mean 'rings'?"),
            "unknown key 'ring', did you mean 'rings'?"
        );
        assert_eq!(
            shorten_quoted(&format!("invalid type: string \"{long}\", expected u32")),
            "invalid type: string \"root:x:0:0:root:/root:/bin/bash daemon:x...\", expected u32"
        );
        assert_eq!(
            shorten_quoted(&format!("got `{long}")),
            "got `root:x:0:0:root:/root:/bin/bash daemon:x..."
        );
    }

    #[test]
    fn excerpts_are_short_and_escaped() {
        assert_eq!(excerpt("root:x:0"), "root:x:0");
        assert_eq!(excerpt("a\nb"), "a\\nb");
        let long = "x".repeat(100);
        assert_eq!(excerpt(&long), format!("{}...", "x".repeat(EXCERPT_CHARS)));
    }
}
