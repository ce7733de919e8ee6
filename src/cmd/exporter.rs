//! `dpuctl exporter`: the monitor's sampler and engine behind a Prometheus `/metrics`.
//!
//! Threads: the sampler (as for `stats`), this loop (owns the engine), one acceptor and two
//! HTTP workers, and a compliance checker when `--check` is given. One event channel feeds
//! the loop: sample batches, scrape requests and compliance results. A scrape asks the loop
//! for a copy of the totals and renders it on the worker, so a slow client holds a worker,
//! never the sampler or the loop; requests are bounded in size and time.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::cli::{ExporterArgs, GlobalArgs};
use crate::monitor::config;
use crate::monitor::prometheus::{self, Compliance, Meta};
use crate::monitor::record::{Header, Recorder};
use crate::monitor::sampler::{self, SamplerError, SamplerMsg};
use crate::monitor::totals::Totals;
use crate::monitor::Engine;
use crate::sys::{procfs, SysRoot};

/// Largest request head read (request line and headers).
const MAX_REQUEST: usize = 8192;
/// Time a client has to send its request, and to take the answer.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// HTTP workers.
const WORKERS: usize = 2;
/// Connections accepted and waiting for a worker; more are refused (closed).
const BACKLOG: usize = 16;

/// What the loop hands a scrape.
struct Snapshot {
    totals: Totals,
    reads: u64,
    read_ns: u64,
    compliance: Vec<Compliance>,
}

enum Event {
    Sampler(SamplerMsg),
    Scrape(mpsc::Sender<Snapshot>),
    Compliance(Vec<Compliance>),
}

/// Runs `dpuctl exporter`.
pub fn run(g: &GlobalArgs, root: &SysRoot, args: &ExporterArgs) -> anyhow::Result<ExitCode> {
    if !root.is_live() {
        anyhow::bail!(
            "failed to start the exporter: live sampling reads netlink and needs the live /sys \
             and /proc (drop --sysfs-root/--procfs-root)"
        );
    }
    let mut settings = config::settings(&super::monitor_options(&args.monitor), root)?;
    settings.sampler.ifaces.clone_from(&args.ifaces);
    settings.sampler.node_detail = true;
    settings.engine.flight = None;
    // Profiles are checked once before anything starts: an invalid one is an error now, not a
    // series that says so later.
    let mut first = Vec::new();
    for p in &args.checks {
        let r = crate::cmd::tune::check_report(g, root, p, &args.ifaces)
            .with_context(|| format!("failed to check profile {p}"))?;
        first.push(compliance_of(p, Ok(&r), 1));
    }
    let listener = TcpListener::bind(args.listen)
        .with_context(|| format!("failed to listen on {}", args.listen))?;
    listener
        .set_nonblocking(true)
        .context("failed to set up the listening socket")?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone())
            .context("failed to install signal handler")?;
    }
    let (tx, rx) = mpsc::sync_channel::<Event>(256);
    let stx = tx.clone();
    let handle = sampler::spawn(settings.sampler.clone(), move |m| {
        stx.send(Event::Sampler(m)).is_ok()
    })
    .map_err(|e| match e {
        SamplerError::NoSuchInterface(name) => {
            anyhow::anyhow!("failed to watch interface \"{name}\": no such interface")
        }
        other => anyhow::Error::new(other).context("failed to start the sampler"),
    })?;
    let mut recorder = match &settings.record {
        Some(path) => {
            let host = procfs::hostname(root).unwrap_or_default();
            let wall = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let h = Header::new(&host, &args.ifaces, wall, settings.sampler.interval_ns);
            Some(Recorder::create(path, &h)?)
        }
        None => None,
    };
    let local = listener.local_addr().unwrap_or(args.listen);
    let meta = Arc::new(MetaOwned {
        version: env!("CARGO_PKG_VERSION").to_string(),
        sample_interval_s: settings.sampler.interval_ns as f64 / 1e9,
        slow_interval_s: settings.sampler.slow_interval_ns as f64 / 1e9,
        raw_allow: args.raw_counters.clone(),
    });
    let mut threads = serve(listener, &tx, &stop, &meta)?;
    if !args.checks.is_empty() {
        threads.push(checker(
            g,
            root,
            args,
            first.clone(),
            tx.clone(),
            stop.clone(),
        )?);
    }
    drop(tx);
    eprintln!("dpuctl exporter: serving http://{local}/metrics");

    let mut engine = Engine::new(settings.engine.clone());
    let mut compliance = first;
    let (mut reads, mut read_ns) = (0u64, 0u64);
    let result = (|| -> anyhow::Result<()> {
        while !stop.load(Ordering::Relaxed) {
            let ev = match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(e) => e,
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            match ev {
                Event::Sampler(SamplerMsg::Batch(b)) => {
                    engine.note_missed(b.missed);
                    reads += b.reads;
                    read_ns += b.read_ns;
                    for s in &b.samples {
                        if let Some(r) = &mut recorder {
                            r.write(s)?;
                        }
                        engine.ingest(s);
                    }
                }
                Event::Sampler(SamplerMsg::Error(e)) => {
                    return Err(anyhow::Error::new(e).context("sampler stopped"));
                }
                Event::Scrape(reply) => {
                    let _ = reply.send(Snapshot {
                        totals: engine.totals(),
                        reads,
                        read_ns,
                        compliance: compliance.clone(),
                    });
                }
                Event::Compliance(c) => compliance = c,
            }
        }
        Ok(())
    })();
    stop.store(true, Ordering::Relaxed);
    // Closing the channel first: a sampler or worker blocked on a full channel sees it.
    drop(rx);
    handle.join();
    for t in threads {
        let _ = t.join();
    }
    if let Some(r) = &mut recorder {
        r.flush()?;
    }
    result?;
    Ok(ExitCode::SUCCESS)
}

/// What the workers need to render, besides the snapshot.
struct MetaOwned {
    version: String,
    sample_interval_s: f64,
    slow_interval_s: f64,
    raw_allow: Vec<String>,
}

/// Starts the acceptor and the workers.
fn serve(
    listener: TcpListener,
    tx: &mpsc::SyncSender<Event>,
    stop: &Arc<AtomicBool>,
    meta: &Arc<MetaOwned>,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let (ctx, crx) = mpsc::sync_channel::<TcpStream>(BACKLOG);
    let crx = Arc::new(std::sync::Mutex::new(crx));
    let mut threads = Vec::new();
    for n in 0..WORKERS {
        let crx = crx.clone();
        let tx = tx.clone();
        let meta = meta.clone();
        let t = std::thread::Builder::new()
            .name(format!("http-{n}"))
            .spawn(move || loop {
                // The lock is held only while waiting for the next connection.
                let conn = match crx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok(conn) = conn else { return };
                let _ = handle(conn, &tx, &meta);
            })
            .context("failed to start an HTTP worker")?;
        threads.push(t);
    }
    let stop = stop.clone();
    let t = std::thread::Builder::new()
        .name("http-accept".into())
        .spawn(move || {
            // Waits in poll(2) rather than sleeping between tries: a connection is taken the
            // moment it arrives, and the stop flag is still looked at every 100 ms.
            let tick = rustix::time::Timespec {
                tv_sec: 0,
                tv_nsec: 100_000_000,
            };
            while !stop.load(Ordering::Relaxed) {
                let mut fds = [rustix::event::PollFd::new(
                    &listener,
                    rustix::event::PollFlags::IN,
                )];
                if !matches!(rustix::event::poll(&mut fds, Some(&tick)), Ok(n) if n > 0) {
                    continue;
                }
                match listener.accept() {
                    Ok((conn, _)) => {
                        // All workers busy and the backlog full: refused (closed at once).
                        let _ = ctx.try_send(conn);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    // Out of descriptors and the like: do not spin on the error.
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        })
        .context("failed to start the HTTP acceptor")?;
    threads.push(t);
    Ok(threads)
}

/// The request line of a request head, once the head is complete.
#[derive(Debug, PartialEq, Eq)]
enum Head {
    /// Still incomplete.
    More,
    /// Method and path (without a query string).
    Request(String, String),
    /// Not HTTP, or too large.
    Bad,
}

fn parse_head(buf: &[u8]) -> Head {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n").or_else(|| {
        // Tolerate bare LF line ends.
        buf.windows(2).position(|w| w == b"\n\n")
    }) else {
        return if buf.len() >= MAX_REQUEST {
            Head::Bad
        } else {
            Head::More
        };
    };
    let Ok(head) = std::str::from_utf8(&buf[..end]) else {
        return Head::Bad;
    };
    let line = head.lines().next().unwrap_or("");
    let mut parts = line.split(' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(target), Some(v)) if v.starts_with("HTTP/1.") => {
            let path = target.split('?').next().unwrap_or("");
            Head::Request(m.to_string(), path.to_string())
        }
        _ => Head::Bad,
    }
}

fn handle(
    mut conn: TcpStream,
    tx: &mpsc::SyncSender<Event>,
    meta: &MetaOwned,
) -> std::io::Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(IO_TIMEOUT))?;
    conn.set_write_timeout(Some(IO_TIMEOUT))?;
    let deadline = Instant::now() + IO_TIMEOUT;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let head = loop {
        match parse_head(&buf) {
            Head::More => {}
            h => break h,
        }
        if Instant::now() > deadline {
            return Ok(());
        }
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n.min(MAX_REQUEST - buf.len().min(MAX_REQUEST))]);
    };
    let (method, path) = match head {
        Head::Request(m, p) => (m, p),
        Head::Bad | Head::More => {
            respond(
                &mut conn,
                "400 Bad Request",
                "text/plain",
                b"bad request\n",
                true,
            )?;
            // Closing with unread input would reset the connection before the client reads
            // the answer: end the answer, then drain a bounded amount for a short while.
            conn.shutdown(std::net::Shutdown::Write)?;
            conn.set_read_timeout(Some(Duration::from_secs(1)))?;
            let mut left = 64 * 1024;
            while left > 0 {
                match conn.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => left -= n.min(left),
                }
            }
            return Ok(());
        }
    };
    let body_too = method != "HEAD";
    if method != "GET" && method != "HEAD" {
        return respond(
            &mut conn,
            "405 Method Not Allowed",
            "text/plain",
            b"only GET\n",
            true,
        );
    }
    match path.as_str() {
        "/metrics" => {
            let (rtx, rrx) = mpsc::channel();
            if tx.send(Event::Scrape(rtx)).is_err() {
                return respond(
                    &mut conn,
                    "503 Service Unavailable",
                    "text/plain",
                    b"stopping\n",
                    true,
                );
            }
            let Ok(snap) = rrx.recv_timeout(IO_TIMEOUT) else {
                return respond(
                    &mut conn,
                    "503 Service Unavailable",
                    "text/plain",
                    b"busy\n",
                    true,
                );
            };
            let body = prometheus::render(
                &snap.totals,
                &Meta {
                    version: &meta.version,
                    sample_interval_s: meta.sample_interval_s,
                    slow_interval_s: meta.slow_interval_s,
                    reads: snap.reads,
                    read_s: snap.read_ns as f64 / 1e9,
                    raw_allow: &meta.raw_allow,
                    compliance: &snap.compliance,
                },
            );
            respond(
                &mut conn,
                "200 OK",
                prometheus::CONTENT_TYPE,
                body.as_bytes(),
                body_too,
            )
        }
        "/" => respond(
            &mut conn,
            "200 OK",
            "text/html; charset=utf-8",
            INDEX.as_bytes(),
            body_too,
        ),
        _ => respond(
            &mut conn,
            "404 Not Found",
            "text/plain",
            b"not found; try /metrics\n",
            body_too,
        ),
    }
}

const INDEX: &str = "<html><head><title>dpuctl exporter</title></head><body>\
<h1>dpuctl exporter</h1><p>NIC counters, queues, microbursts and alerts: \
<a href=\"/metrics\">/metrics</a></p></body></html>\n";

fn respond(
    conn: &mut TcpStream,
    status: &str,
    ctype: &str,
    body: &[u8],
    with_body: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes())?;
    if with_body {
        conn.write_all(body)?;
    }
    conn.flush()
}

fn compliance_of(
    profile: &str,
    r: Result<&crate::tune::plan::CheckReport, ()>,
    evaluations: u64,
) -> Compliance {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    match r {
        Ok(r) => Compliance {
            profile: profile.to_string(),
            ok: true,
            compared: r.compared.len() as u64,
            drifted: r.drift.len() as u64,
            skipped: r.skipped.len() as u64,
            evaluations,
            last_unix_s: now,
        },
        Err(()) => Compliance {
            profile: profile.to_string(),
            ok: false,
            evaluations,
            last_unix_s: now,
            ..Compliance::default()
        },
    }
}

/// Re-checks the profiles every `--check-interval` and sends the results to the loop.
fn checker(
    g: &GlobalArgs,
    root: &SysRoot,
    args: &ExporterArgs,
    mut last: Vec<Compliance>,
    tx: mpsc::SyncSender<Event>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<JoinHandle<()>> {
    let g = g.clone();
    let root = root.clone();
    let profiles = args.checks.clone();
    let ifaces = args.ifaces.clone();
    let every = args.check_interval.max(Duration::from_secs(1));
    std::thread::Builder::new()
        .name("check".into())
        .spawn(move || {
            let mut next = Instant::now() + every;
            while !stop.load(Ordering::Relaxed) {
                if Instant::now() < next {
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
                next += every;
                let mut now = Vec::with_capacity(profiles.len());
                for (k, p) in profiles.iter().enumerate() {
                    let n = last.get(k).map_or(0, |c| c.evaluations) + 1;
                    let r = crate::cmd::tune::check_report(&g, &root, p, &ifaces);
                    now.push(compliance_of(p, r.as_ref().map_err(|_| ()), n));
                }
                last.clone_from(&now);
                if tx.send(Event::Compliance(now)).is_err() {
                    return;
                }
            }
        })
        .context("failed to start the compliance checker")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_heads_parse_once_complete_and_bounded() {
        assert_eq!(
            parse_head(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"),
            Head::More
        );
        assert_eq!(
            parse_head(b"GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"),
            Head::Request("GET".into(), "/metrics".into())
        );
        assert_eq!(
            parse_head(b"HEAD / HTTP/1.0\n\n"),
            Head::Request("HEAD".into(), "/".into())
        );
        assert_eq!(parse_head(b"hello\r\n\r\n"), Head::Bad);
        assert_eq!(parse_head(&[b'a'; MAX_REQUEST]), Head::Bad);
    }
}
