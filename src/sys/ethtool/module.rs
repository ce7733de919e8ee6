//! Module EEPROM reads: `ETHTOOL_MSG_MODULE_EEPROM_GET` over ethtool netlink (kernel 5.13+,
//! Documentation/networking/ethtool-netlink.rst `MODULE_EEPROM_GET`), one half page at a
//! time as [`crate::module::plan`] asks, and the legacy `ETHTOOL_GMODULEINFO` /
//! `ETHTOOL_GMODULEEEPROM` ioctl for kernels without it. Both need `CAP_NET_ADMIN`. Reads
//! only: nothing is ever written to a module.

use crate::model::module::{ModuleEeprom, RawPage, I2C_DIAG, I2C_ID};
use crate::model::Avail;
use crate::module::plan::{self, PageRead};
use crate::sys::nl::{AttrBuf, Attrs};

use super::{ioctl, Ethtool, EthtoolError};

/// `ETHTOOL_MSG_MODULE_EEPROM_GET`.
pub const MSG_MODULE_EEPROM_GET: u8 = 31;
// `ETHTOOL_A_MODULE_EEPROM_*`.
const A_OFFSET: u16 = 2;
const A_LENGTH: u16 = 3;
const A_PAGE: u16 = 4;
const A_BANK: u16 = 5;
const A_I2C_ADDRESS: u16 = 6;
const A_DATA: u16 = 7;

// `ETH_MODULE_SFF_*` types of `struct ethtool_modinfo`.
#[cfg(test)]
const ETH_MODULE_SFF_8079: u32 = 0x1;
const ETH_MODULE_SFF_8472: u32 = 0x2;
const ETH_MODULE_SFF_8636: u32 = 0x3;
const ETH_MODULE_SFF_8436: u32 = 0x4;

const WHAT: &str = "read module EEPROM";

/// The n/a reason when the driver offers no module EEPROM access at all.
pub const NA_UNSUPPORTED: &str = "driver has no module EEPROM access";
/// The n/a reason without the privilege.
pub const NA_PERMISSION: &str = "needs CAP_NET_ADMIN";

/// The request attributes after the header.
pub fn put_request(b: &mut AttrBuf, r: PageRead) {
    b.u32(A_OFFSET, u32::from(r.offset))
        .u32(A_LENGTH, u32::from(r.length))
        .u8(A_PAGE, r.page)
        .u8(A_BANK, r.bank)
        .u8(A_I2C_ADDRESS, r.i2c);
}

/// The data of a reply, at most `max` bytes; `None` when the reply has no data attribute.
pub fn parse_reply(data: &[u8], max: u8) -> Option<Vec<u8>> {
    let d = Attrs::new(data).get(A_DATA)?;
    Some(d[..d.len().min(usize::from(max))].to_vec())
}

/// Splits a legacy flat dump into half pages: SFF-8079 is A0h (256 bytes), SFF-8472 A0h
/// then A2h (512), SFF-8636/8436 the lower page, upper page 00h and then upper pages 01h,
/// 02h, 03h (up to 640). Anything else is kept as the lower page and upper page 00h.
pub fn pages_from_legacy(kind: u32, dump: &[u8]) -> ModuleEeprom {
    let mut pages = Vec::new();
    let mut push = |i2c: u8, page: u8, offset: u8, at: usize| {
        if let Some(d) = dump.get(at..) {
            if !d.is_empty() {
                pages.push(RawPage {
                    i2c,
                    page,
                    bank: 0,
                    offset,
                    data: d[..d.len().min(128)].to_vec(),
                });
            }
        }
    };
    push(I2C_ID, 0, 0, 0);
    push(I2C_ID, 0, 128, 128);
    match kind {
        ETH_MODULE_SFF_8472 => {
            push(I2C_DIAG, 0, 0, 256);
            push(I2C_DIAG, 0, 128, 384);
        }
        ETH_MODULE_SFF_8636 | ETH_MODULE_SFF_8436 => {
            for (i, page) in [1u8, 2, 3].into_iter().enumerate() {
                push(I2C_ID, page, 128, 256 + 128 * i);
            }
        }
        // ETH_MODULE_SFF_8079 and unknown types: A0h only.
        _ => {}
    }
    ModuleEeprom {
        source: "ioctl".to_string(),
        pages,
    }
}

impl Ethtool {
    /// One half-page read.
    pub fn module_page(&mut self, ifname: &str, r: PageRead) -> Result<Vec<u8>, EthtoolError> {
        debug_assert!(r.is_valid());
        let reply = self.get_with(MSG_MODULE_EEPROM_GET, ifname, 0, WHAT, |b| {
            put_request(b, r);
        })?;
        parse_reply(&reply, r.length).ok_or_else(|| EthtoolError::Kernel {
            what: WHAT,
            ifname: ifname.to_string(),
            source: crate::sys::nl::NlError::Malformed("module EEPROM reply without data".into()),
        })
    }

    /// The module's pages over netlink, as the plan asks.
    pub fn module_eeprom(&mut self, ifname: &str) -> Result<ModuleEeprom, EthtoolError> {
        plan::read_all("netlink", |r| self.module_page(ifname, r))
    }
}

/// The module EEPROM of `ifname`: netlink first, the legacy ioctl where netlink cannot
/// (older kernels answer the unknown command with `EOPNOTSUPP`); n/a with the reason when
/// neither can.
pub fn read(eth: Option<&mut Ethtool>, ifname: &str) -> Avail<ModuleEeprom> {
    let nl = match eth {
        Some(e) => e.module_eeprom(ifname),
        None => Err(EthtoolError::NoNetlink),
    };
    match nl {
        Ok(m) => Avail::Ok(m),
        Err(e) if e.is_permission() => Avail::na(NA_PERMISSION),
        Err(e) if e.is_no_device() => Avail::na(e.reason()),
        Err(nl_err) => match ioctl::module_eeprom(ifname) {
            Ok((kind, dump)) => Avail::Ok(pages_from_legacy(kind, &dump)),
            Err(e) if e.is_permission() => Avail::na(NA_PERMISSION),
            Err(e)
                if e.is_unsupported()
                    && (nl_err.is_unsupported() || matches!(nl_err, EthtoolError::NoNetlink)) =>
            {
                Avail::na(NA_UNSUPPORTED)
            }
            // Both failed otherwise: netlink's words (with the kernel's extended ack) say
            // more than the ioctl's errno, unless netlink was not there to ask.
            Err(e) if matches!(nl_err, EthtoolError::NoNetlink) => Avail::na(e.reason()),
            Err(_) => Avail::na(nl_err.reason()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::{abi, msg};
    use super::*;

    fn kinds(b: &[u8]) -> Vec<(u16, Vec<u8>)> {
        let mut out = Vec::new();
        let mut rest = b;
        while rest.len() >= 4 {
            let len = u16::from_ne_bytes([rest[0], rest[1]]) as usize;
            let kind = u16::from_ne_bytes([rest[2], rest[3]]) & 0x3fff;
            out.push((kind, rest[4..len].to_vec()));
            rest = &rest[(len + 3) & !3..];
        }
        out
    }

    #[test]
    fn request_names_offset_length_page_bank_and_address() {
        let mut b = msg::request(abi::A_HEADER, "eth0", 0);
        put_request(&mut b, PageRead::upper(0x11, 1));
        let k = kinds(b.bytes());
        assert_eq!(k[0].0, abi::A_HEADER);
        assert_eq!(k[1], (A_OFFSET, 128u32.to_ne_bytes().to_vec()));
        assert_eq!(k[2], (A_LENGTH, 128u32.to_ne_bytes().to_vec()));
        assert_eq!(k[3], (A_PAGE, vec![0x11]));
        assert_eq!(k[4], (A_BANK, vec![1]));
        assert_eq!(k[5], (A_I2C_ADDRESS, vec![0x50]));
        assert_eq!(k.len(), 6);
    }

    #[test]
    fn reply_data_is_taken_and_capped() {
        let mut r = AttrBuf::new();
        r.begin(abi::A_HEADER).u32(abi::A_HEADER_DEV_INDEX, 3).end();
        r.put(A_DATA, &[0x11, 0x22, 0x33]);
        assert_eq!(parse_reply(r.bytes(), 128), Some(vec![0x11, 0x22, 0x33]));
        assert_eq!(parse_reply(r.bytes(), 2), Some(vec![0x11, 0x22]));
        let mut none = AttrBuf::new();
        none.begin(abi::A_HEADER).end();
        assert_eq!(parse_reply(none.bytes(), 128), None);
    }

    #[test]
    fn legacy_dumps_split_into_pages() {
        let dump: Vec<u8> = (0..512).map(|i| (i / 128) as u8).collect();
        let e = pages_from_legacy(ETH_MODULE_SFF_8472, &dump);
        assert_eq!(e.byte(I2C_ID, 0, 0, 5), Some(0));
        assert_eq!(e.byte(I2C_ID, 0, 0, 200), Some(1));
        assert_eq!(e.byte(I2C_DIAG, 0, 0, 96), Some(2));
        assert_eq!(e.byte(I2C_DIAG, 0, 0, 130), Some(3));
        let dump: Vec<u8> = (0..640).map(|i| (i / 128) as u8).collect();
        let e = pages_from_legacy(ETH_MODULE_SFF_8636, &dump);
        assert_eq!(e.byte(I2C_ID, 0, 0, 130), Some(1));
        assert_eq!(e.byte(I2C_ID, 1, 0, 130), Some(2));
        assert_eq!(e.byte(I2C_ID, 3, 0, 130), Some(4));
        assert_eq!(e.pages.len(), 5);
        // A short SFF-8636 dump (no upper pages beyond 00h).
        let e = pages_from_legacy(ETH_MODULE_SFF_8436, &dump[..256]);
        assert_eq!(e.pages.len(), 2);
        let e = pages_from_legacy(ETH_MODULE_SFF_8079, &dump[..256]);
        assert_eq!(e.pages.len(), 2);
        assert_eq!(e.byte(I2C_DIAG, 0, 0, 0), None);
        assert_eq!(e.source, "ioctl");
    }
}
