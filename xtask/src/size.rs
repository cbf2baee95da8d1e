//! The flash and RAM size report, read from the firmware ELF files in
//! `examples/firmware` (no external size tool needed).
//!
//! Flash is every allocated section with file contents (`.vector_table`,
//! `.text`, `.rodata`, and `.data`'s load image); RAM is every allocated
//! writable section (`.data`, `.bss`, `.uninit`), the stack excluded.

use core::fmt::Write as _;
use std::path::Path;

/// Flash the core may add to the empty firmware (the target).
pub(crate) const FLASH_BUDGET: u64 = 16 * 1024;

/// The target the size firmware is built for.
pub(crate) const TARGET: &str = "thumbv7em-none-eabihf";

const SHT_SYMTAB: u32 = 2;
const SHT_NOBITS: u32 = 8;
const SHF_WRITE: u32 = 0x1;
const SHF_ALLOC: u32 = 0x2;

/// One ELF32 section header.
#[derive(Debug, Clone, Copy)]
struct Section {
    kind: u32,
    flags: u32,
    offset: u32,
    size: u32,
    link: u32,
    entsize: u32,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// The section headers of a little-endian ELF32 file.
fn sections(elf: &[u8]) -> Option<Vec<Section>> {
    if elf.get(..4)? != b"\x7fELF" || *elf.get(4)? != 1 || *elf.get(5)? != 1 {
        return None;
    }
    let shoff = usize::try_from(u32_at(elf, 0x20)?).ok()?;
    let shentsize = usize::from(u16_at(elf, 0x2E)?);
    let shnum = usize::from(u16_at(elf, 0x30)?);
    (0..shnum)
        .map(|i| {
            let at = shoff.checked_add(i.checked_mul(shentsize)?)?;
            Some(Section {
                kind: u32_at(elf, at.checked_add(4)?)?,
                flags: u32_at(elf, at.checked_add(8)?)?,
                offset: u32_at(elf, at.checked_add(16)?)?,
                size: u32_at(elf, at.checked_add(20)?)?,
                link: u32_at(elf, at.checked_add(24)?)?,
                entsize: u32_at(elf, at.checked_add(36)?)?,
            })
        })
        .collect()
}

/// Flash and RAM of one firmware image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Footprint {
    pub(crate) flash: u64,
    pub(crate) ram: u64,
}

/// Flash and RAM used by an ELF32 image.
pub(crate) fn footprint(elf: &[u8]) -> Option<Footprint> {
    let mut fp = Footprint { flash: 0, ram: 0 };
    for s in sections(elf)? {
        if s.flags & SHF_ALLOC == 0 {
            continue;
        }
        if s.kind != SHT_NOBITS {
            fp.flash = fp.flash.saturating_add(u64::from(s.size));
        }
        if s.flags & SHF_WRITE != 0 {
            fp.ram = fp.ram.saturating_add(u64::from(s.size));
        }
    }
    Some(fp)
}

/// The size of the first symbol whose (mangled) name contains `needle`.
pub(crate) fn symbol_size(elf: &[u8], needle: &str) -> Option<u64> {
    let secs = sections(elf)?;
    let symtab = secs.iter().find(|s| s.kind == SHT_SYMTAB)?;
    let strtab = secs.get(usize::try_from(symtab.link).ok()?)?;
    let str_start = usize::try_from(strtab.offset).ok()?;
    let str_end = str_start.checked_add(usize::try_from(strtab.size).ok()?)?;
    let strings = elf.get(str_start..str_end)?;
    let entsize = usize::try_from(symtab.entsize).ok()?.max(16);
    let start = usize::try_from(symtab.offset).ok()?;
    let count = usize::try_from(symtab.size).ok()? / entsize;
    for i in 0..count {
        let at = start.checked_add(i.checked_mul(entsize)?)?;
        let name_off = usize::try_from(u32_at(elf, at)?).ok()?;
        let name = strings.get(name_off..)?;
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        let name = core::str::from_utf8(name.get(..end)?).ok()?;
        if name.contains(needle) {
            return Some(u64::from(u32_at(elf, at.checked_add(8)?)?));
        }
    }
    None
}

/// The measured report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Report {
    pub(crate) baseline: Footprint,
    pub(crate) dealer: Footprint,
    /// The DEALER with PLAIN (client and server) and a ZAP handler.
    pub(crate) plain: Footprint,
    /// The DEALER with CURVE (client and server) and a ZAP handler.
    pub(crate) curve: Footprint,
    pub(crate) connection: u64,
    pub(crate) socket_one_peer: u64,
    pub(crate) peer_slot: u64,
    pub(crate) monitor_event: u64,
}

impl Report {
    /// Flash the core adds to the empty firmware.
    pub(crate) fn core_flash(&self) -> u64 {
        self.dealer.flash.saturating_sub(self.baseline.flash)
    }

    /// Flash the PLAIN mechanism adds to the NULL DEALER.
    pub(crate) fn plain_flash(&self) -> u64 {
        self.plain.flash.saturating_sub(self.dealer.flash)
    }

    /// Flash the CURVE mechanism (with its crypto crates) adds to the NULL
    /// DEALER.
    pub(crate) fn curve_flash(&self) -> u64 {
        self.curve.flash.saturating_sub(self.dealer.flash)
    }

    /// Whether the core fits [`FLASH_BUDGET`].
    pub(crate) fn within_budget(&self) -> bool {
        self.core_flash() <= FLASH_BUDGET
    }

    /// The report as a Markdown table (as in the README).
    pub(crate) fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| measured on `{TARGET}`, opt-level \"z\", LTO | bytes |"
        );
        let _ = writeln!(out, "|---|---:|");
        let _ = writeln!(
            out,
            "| flash, empty firmware (baseline) | {} |",
            self.baseline.flash
        );
        let _ = writeln!(
            out,
            "| flash, firmware with a NULL DEALER socket and its monitor | {} |",
            self.dealer.flash
        );
        let _ = writeln!(
            out,
            "| **flash added by zmtp-core** (budget {FLASH_BUDGET}) | **{}** |",
            self.core_flash()
        );
        let _ = writeln!(
            out,
            "| flash added by PLAIN (client and server, a ZAP handler in the firmware; feature `plain`) | {} |",
            self.plain_flash()
        );
        let _ = writeln!(
            out,
            "| flash added by CURVE (client and server, crypto included, a ZAP handler in the firmware; feature `curve`) | {} |",
            self.curve_flash()
        );
        let _ = writeln!(
            out,
            "| RAM, `Connection` state (excluding its rx/tx buffers) | {} |",
            self.connection
        );
        let _ = writeln!(
            out,
            "| RAM, one peer slot of a `Socket` (connection, endpoints, routing id; excluding buffers) | {} |",
            self.peer_slot
        );
        let _ = writeln!(
            out,
            "| RAM, `Socket<1 peer, 8 events, 48-byte endpoints>` | {} |",
            self.socket_one_peer
        );
        let _ = writeln!(
            out,
            "| RAM, one queued monitor event (48-byte endpoints) | {} |",
            self.monitor_event
        );
        out
    }
}

/// Reads the report from the built firmware in `dir` (the release output
/// directory).
pub(crate) fn read_report(dir: &Path) -> Result<Report, String> {
    let read =
        |name: &str| std::fs::read(dir.join(name)).map_err(|e| format!("cannot read {name}: {e}"));
    let baseline = read("size-baseline")?;
    let dealer = read("size-dealer")?;
    let plain = read("size-plain")?;
    let curve = read("size-curve")?;
    let layout = read("size-layout")?;
    let fp = |elf: &[u8], name: &str| {
        footprint(elf).ok_or_else(|| format!("{name} is not a little-endian ELF32 file"))
    };
    let sym = |needle: &str| {
        symbol_size(&layout, needle)
            .ok_or_else(|| format!("symbol {needle} not found in size-layout"))
    };
    let one = sym("ZMTP_LAYOUT_SOCKET_1")?;
    let two = sym("ZMTP_LAYOUT_SOCKET_2")?;
    Ok(Report {
        baseline: fp(&baseline, "size-baseline")?,
        dealer: fp(&dealer, "size-dealer")?,
        plain: fp(&plain, "size-plain")?,
        curve: fp(&curve, "size-curve")?,
        connection: sym("ZMTP_LAYOUT_CONNECTION")?,
        socket_one_peer: one,
        peer_slot: two.saturating_sub(one),
        monitor_event: sym("ZMTP_LAYOUT_MONITOR_EVENT")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF32 image: null section, .text (alloc), .bss (alloc,
    /// write, nobits), .data (alloc, write), .symtab, .strtab.
    fn tiny_elf() -> Vec<u8> {
        let mut elf = vec![0u8; 0x34];
        elf[..4].copy_from_slice(b"\x7fELF");
        elf[4] = 1;
        elf[5] = 1;
        // strtab contents and symtab entries after the header.
        let strtab_off = elf.len() as u32;
        let strings = b"\0ZMTP_LAYOUT_CONNECTION_x\0";
        elf.extend_from_slice(strings);
        let symtab_off = elf.len() as u32;
        elf.extend_from_slice(&[0u8; 16]);
        let mut sym = [0u8; 16];
        sym[..4].copy_from_slice(&1u32.to_le_bytes());
        sym[8..12].copy_from_slice(&464u32.to_le_bytes());
        elf.extend_from_slice(&sym);
        let shoff = elf.len() as u32;
        let sh = |kind: u32, flags: u32, offset: u32, size: u32, link: u32, entsize: u32| {
            let mut h = [0u8; 40];
            h[4..8].copy_from_slice(&kind.to_le_bytes());
            h[8..12].copy_from_slice(&flags.to_le_bytes());
            h[16..20].copy_from_slice(&offset.to_le_bytes());
            h[20..24].copy_from_slice(&size.to_le_bytes());
            h[24..28].copy_from_slice(&link.to_le_bytes());
            h[36..40].copy_from_slice(&entsize.to_le_bytes());
            h
        };
        let headers = [
            sh(0, 0, 0, 0, 0, 0),
            sh(1, SHF_ALLOC, 0, 1000, 0, 0),
            sh(SHT_NOBITS, SHF_ALLOC | SHF_WRITE, 0, 200, 0, 0),
            sh(1, SHF_ALLOC | SHF_WRITE, 0, 30, 0, 0),
            sh(SHT_SYMTAB, 0, symtab_off, 32, 5, 16),
            sh(3, 0, strtab_off, strings.len() as u32, 0, 0),
        ];
        for h in headers {
            elf.extend_from_slice(&h);
        }
        elf[0x20..0x24].copy_from_slice(&shoff.to_le_bytes());
        elf[0x2E..0x30].copy_from_slice(&40u16.to_le_bytes());
        elf[0x30..0x32].copy_from_slice(&6u16.to_le_bytes());
        elf
    }

    #[test]
    fn footprint_counts_flash_and_ram_sections() {
        let fp = footprint(&tiny_elf()).unwrap();
        assert_eq!(
            fp,
            Footprint {
                flash: 1030,
                ram: 230
            }
        );
    }

    #[test]
    fn symbol_size_finds_the_layout_symbol() {
        let elf = tiny_elf();
        assert_eq!(symbol_size(&elf, "ZMTP_LAYOUT_CONNECTION"), Some(464));
        assert_eq!(symbol_size(&elf, "ZMTP_LAYOUT_SOCKET"), None);
    }

    #[test]
    fn rejects_non_elf() {
        assert_eq!(footprint(b"not an elf"), None);
    }

    #[test]
    fn budget_is_checked_against_the_difference() {
        let r = Report {
            baseline: Footprint {
                flash: 1000,
                ram: 0,
            },
            dealer: Footprint {
                flash: 1000 + FLASH_BUDGET,
                ram: 0,
            },
            plain: Footprint {
                flash: 3000 + FLASH_BUDGET,
                ram: 0,
            },
            curve: Footprint {
                flash: 11000 + FLASH_BUDGET,
                ram: 0,
            },
            connection: 1,
            socket_one_peer: 1,
            peer_slot: 1,
            monitor_event: 1,
        };
        assert!(r.within_budget());
        assert!(r.table().contains(&format!("**{FLASH_BUDGET}**")));
        assert_eq!(r.plain_flash(), 2000);
        assert!(r.table().contains("| 2000 |"));
        assert_eq!(r.curve_flash(), 10000);
    }
}
