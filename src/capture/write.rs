//! A pcap writer (nanosecond magic), for `capture -w` and for generating test and benchmark
//! files.

use std::io::{self, Write};

/// Writes classic pcap with nanosecond timestamps in little-endian byte order.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header.
    pub fn new(mut out: W, linktype: u16, snaplen: u32) -> io::Result<Self> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&0xa1b2_3c4d_u32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        h.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        h.extend_from_slice(&snaplen.to_le_bytes());
        h.extend_from_slice(&u32::from(linktype).to_le_bytes());
        out.write_all(&h)?;
        Ok(Self { out, snaplen })
    }

    /// Writes one packet (cut to the snapshot length).
    pub fn write(&mut self, ts_ns: u64, origlen: u32, data: &[u8]) -> io::Result<()> {
        let data = &data[..data.len().min(self.snaplen as usize)];
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&((ts_ns / 1_000_000_000) as u32).to_le_bytes());
        h[4..8].copy_from_slice(&((ts_ns % 1_000_000_000) as u32).to_le_bytes());
        h[8..12].copy_from_slice(&(data.len() as u32).to_le_bytes());
        h[12..16].copy_from_slice(&origlen.max(data.len() as u32).to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(data)
    }

    /// Pushes what is buffered to the inner writer's destination, so that a reader (or a
    /// file left by a killed process) sees whole records up to here.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
