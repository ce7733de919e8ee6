//! The two real feeds: the live engine fed by the sampler thread, and a recording replayed
//! through the same engine with its own clock.

use std::io::{BufRead, Write as _};
use std::path::{Path, PathBuf};

use super::feed::Feed;
use crate::monitor::engine::Engine;
use crate::monitor::record::{Header, Reader, RecordError, Recorder};
use crate::monitor::sampler::Batch;
use crate::monitor::View;

/// Live: samples from the sampler thread go into the engine (and into `--record FILE`); every
/// tick takes a view.
pub struct LiveFeed {
    engine: Engine,
    recorder: Option<Recorder>,
    label: String,
    error: Option<String>,
    /// What saved histories say about where they come from.
    origin: Header,
    /// Directory saved histories go to.
    save_dir: PathBuf,
    last_wall_ms: u64,
}

impl LiveFeed {
    /// A live feed; `label` describes the sampler in the header, `origin` (host, interfaces,
    /// interval) heads histories saved into `save_dir`.
    pub fn new(
        engine: Engine,
        recorder: Option<Recorder>,
        label: String,
        origin: Header,
        save_dir: PathBuf,
    ) -> Self {
        Self {
            engine,
            recorder,
            label,
            error: None,
            origin,
            save_dir,
            last_wall_ms: 0,
        }
    }

    /// Flushes the recording, if any.
    pub fn finish(&mut self) -> Result<(), RecordError> {
        match &mut self.recorder {
            Some(r) => r.flush(),
            None => Ok(()),
        }
    }
}

impl Feed for LiveFeed {
    fn ingest(&mut self, batch: Batch) {
        self.engine.note_missed(batch.missed);
        for s in &batch.samples {
            self.engine.ingest(s);
            self.last_wall_ms = s.wall_ms;
            if let Some(r) = &mut self.recorder {
                if let Err(e) = r.write(s) {
                    // Recording stops; the screen goes on and says why.
                    self.error = Some(e.to_string());
                    self.recorder = None;
                }
            }
        }
    }

    fn tick(&mut self, _paused: bool) -> Option<View> {
        // Rates are taken even while paused, so that the first view after the pause covers
        // one refresh period, not the whole pause.
        Some(self.engine.view())
    }

    fn reset(&mut self) {
        self.engine.reset();
    }

    fn finished(&self) -> bool {
        false
    }

    fn take_error(&mut self) -> Option<String> {
        self.error.take()
    }

    fn save_history(&mut self) -> Result<String, String> {
        let fr = self
            .engine
            .flight_recorder()
            .ok_or("the flight recorder is off (--history 0)")?;
        let span = fr.span_ns();
        if span == 0 {
            return Err("no samples yet".into());
        }
        let mut header = self.origin.clone();
        header.start_wall_ms = self.last_wall_ms.saturating_sub(span / 1_000_000);
        let host = if header.host.is_empty() {
            "node"
        } else {
            header.host.as_str()
        };
        let name = format!("dpuctl-{host}-{}.rec", utc_stamp(self.last_wall_ms));
        let path = self.save_dir.join(&name);
        let write = || -> std::io::Result<()> {
            // create_new: never overwrite a recording saved a second earlier.
            let f = std::fs::File::create_new(&path)?;
            let mut w = std::io::BufWriter::new(f);
            fr.write_to(&mut w, &header)?;
            w.flush()
        };
        write().map_err(|e| format!("failed to write {}: {e}", path.display()))?;
        Ok(format!(
            "saved the last {:.0} s to {} (for --replay)",
            span as f64 / 1e9,
            path.display()
        ))
    }

    fn describe(&self) -> String {
        let mut s = self.label.clone();
        if self.recorder.is_some() {
            s.push_str(", recording");
        }
        s
    }
}

/// A recording played through the engine: each tick advances the recording's clock by one
/// refresh period times the speed, and ingests the samples up to it. Paused, the clock stops.
pub struct ReplayFeed<R> {
    engine: Engine,
    reader: Reader<R>,
    next: Option<crate::monitor::Sample>,
    first_ns: u64,
    last_ns: u64,
    clock_ns: u64,
    step_ns: u64,
    done: bool,
    name: String,
    error: Option<String>,
}

/// What a first pass over a recording found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    /// Time of the first sample, ns.
    pub first_ns: u64,
    /// Time of the last sample, ns.
    pub last_ns: u64,
    /// Number of samples.
    pub samples: u64,
}

/// Reads a whole recording once without keeping it, so that a malformed file is reported
/// (`file:line:column`) before the screen opens, and the replay knows its length.
pub fn scan(path: &Path) -> Result<Extent, RecordError> {
    let mut r = Reader::open(path)?;
    let mut e = Extent {
        first_ns: 0,
        last_ns: 0,
        samples: 0,
    };
    while let Some(s) = r.next_sample()? {
        if e.samples == 0 {
            e.first_ns = s.t_ns;
        }
        e.last_ns = e.last_ns.max(s.t_ns);
        e.samples += 1;
    }
    Ok(e)
}

impl<R: BufRead> ReplayFeed<R> {
    /// A replay of `reader` (positioned after the header) whose extent is `extent`; each tick
    /// moves the clock by `step_ns`.
    pub fn new(
        engine: Engine,
        mut reader: Reader<R>,
        extent: Extent,
        step_ns: u64,
        name: String,
    ) -> Result<Self, RecordError> {
        let next = reader.next_sample()?;
        Ok(Self {
            engine,
            reader,
            done: next.is_none(),
            next,
            first_ns: extent.first_ns,
            last_ns: extent.last_ns,
            clock_ns: extent.first_ns,
            step_ns: step_ns.max(1),
            name,
            error: None,
        })
    }
}

impl<R: BufRead> Feed for ReplayFeed<R> {
    fn ingest(&mut self, _batch: Batch) {}

    fn tick(&mut self, paused: bool) -> Option<View> {
        if paused || self.done {
            return None;
        }
        self.clock_ns = self.clock_ns.saturating_add(self.step_ns);
        while let Some(s) = self.next.take() {
            if s.t_ns > self.clock_ns {
                self.next = Some(s);
                break;
            }
            self.engine.ingest(&s);
            match self.reader.next_sample() {
                Ok(n) => self.next = n,
                Err(e) => {
                    // The file changed since the scan: show what was read, and why it stops.
                    self.error = Some(e.to_string());
                    self.next = None;
                }
            }
        }
        if self.next.is_none() {
            self.engine.finish();
            self.done = true;
            self.clock_ns = self.clock_ns.min(self.last_ns);
        }
        Some(self.engine.view())
    }

    fn reset(&mut self) {
        self.engine.reset();
    }

    fn finished(&self) -> bool {
        self.done
    }

    fn take_error(&mut self) -> Option<String> {
        self.error.take()
    }

    fn describe(&self) -> String {
        format!(
            "replay {} {:.1}/{:.1} s",
            self.name,
            self.clock_ns.saturating_sub(self.first_ns) as f64 / 1e9,
            self.last_ns.saturating_sub(self.first_ns) as f64 / 1e9,
        )
    }
}

/// A Unix time in ms as "YYYYmmdd-HHMMSS" (UTC), for file names.
pub fn utc_stamp(wall_ms: u64) -> String {
    let secs = wall_ms / 1000;
    let days = (secs / 86_400) as i64;
    let sod = secs % 86_400;
    // Days since 1970-01-01 to a civil date (the proleptic Gregorian calendar), after
    // H. Hinnant's `civil_from_days`.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn stamps_are_utc_dates() {
        assert_eq!(super::utc_stamp(0), "19700101-000000");
        // 2026-11-23 12:34:56 UTC
        assert_eq!(super::utc_stamp(1_795_437_296_789), "20261123-123456");
        // 2024-02-29 23:59:59 UTC (a leap day)
        assert_eq!(super::utc_stamp(1_709_251_199_000), "20240229-235959");
    }
}
