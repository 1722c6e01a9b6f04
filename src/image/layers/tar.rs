//! A streaming tar reader with the semantics of Go's `archive/tar`, which Docker, containerd
//! and buildkit read layers with: what portcullis sees in a layer is what they unpack.
//!
//! Where tar readers disagree, Go's choice is taken: a header-only type (directory, link,
//! device, FIFO) has no data whatever its size field says; the USTAR prefix is joined to the
//! name (not for GNU headers, whose prefix bytes are times); PAX `path`, `linkpath`, `size`,
//! `uid` and `gid` override the header, and a GNU long name overrides PAX; a PAX header or GNU
//! long name over 1 MiB is an error (Go's `maxSpecialFileSize`); the archive ends at EOF on a
//! header boundary or at two zero blocks, and a zero block followed by a non-zero one is an
//! error. Nothing is buffered beyond one header: file data is read through in place.

use std::io::{self, BufRead};

const BLOCK: usize = 512;
/// The most bytes of one PAX header or GNU long name or link (Go's `maxSpecialFileSize`).
const MAX_SPECIAL: u64 = 1 << 20;

/// What an entry is (its type flag, read as Go does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EntryType {
    Regular,
    HardLink,
    Symlink,
    Directory,
    /// Character or block device, FIFO, or a type no unpacker knows.
    Other,
}

/// One entry's header, extensions applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Header {
    /// The name as stored (not normalised).
    pub path: Vec<u8>,
    /// The link target of a hard or symbolic link.
    pub link: Vec<u8>,
    pub kind: EntryType,
    /// Permission bits, setuid/setgid/sticky included.
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// The file's size: of its data, or for a GNU sparse file, of the file it expands to.
    pub size: u64,
}

/// Reads entries from a tar stream; [`TarReader::data`] and [`TarReader::consume`] read the
/// current entry's data, and [`TarReader::next`] skips whatever of it was not read.
pub(super) struct TarReader<R> {
    inner: R,
    /// Data bytes of the current entry not yet consumed.
    remaining: u64,
    /// Padding after them, to the next block.
    padding: u64,
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// Extensions gathered from PAX and GNU headers for the next entry.
#[derive(Default)]
struct Pending {
    path: Option<Vec<u8>>,
    link: Option<Vec<u8>>,
    size: Option<u64>,
    uid: Option<u64>,
    gid: Option<u64>,
    sparse_size: Option<u64>,
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
}

impl<R: BufRead> TarReader<R> {
    pub(super) fn new(inner: R) -> TarReader<R> {
        TarReader {
            inner,
            remaining: 0,
            padding: 0,
        }
    }

    /// The next entry, `None` at the end of the archive. Unread data of the previous entry is
    /// skipped.
    pub(super) fn next(&mut self) -> io::Result<Option<Header>> {
        let mut pending = Pending::default();
        loop {
            self.skip_rest()?;
            let Some(block) = self.read_header_block()? else {
                if pending.long_name.is_some() || pending.path.is_some() || pending.size.is_some() {
                    return Err(invalid("the archive ends after an extended header"));
                }
                return Ok(None);
            };
            let raw = RawHeader(&block);
            let size = raw.size()?;
            match raw.type_flag() {
                b'x' => {
                    let records = self.read_special(size, "PAX header")?;
                    // A second PAX header replaces the first, as in Go.
                    pending = Pending {
                        long_name: pending.long_name,
                        long_link: pending.long_link,
                        ..Pending::default()
                    };
                    parse_pax(&records, &mut pending)?;
                }
                b'g' => {
                    // Global PAX headers: Docker ignores them, and so do we (skipping the data).
                    self.start_data(size);
                }
                b'L' => pending.long_name = Some(c_string(&self.read_special(size, "long name")?)),
                b'K' => pending.long_link = Some(c_string(&self.read_special(size, "long link")?)),
                _ => return self.entry(&block, pending).map(Some),
            }
        }
    }

    /// The current entry's data not yet consumed: at most what the reader has buffered, empty
    /// at its end. A stream that ends inside the data is an error.
    pub(super) fn data(&mut self) -> io::Result<&[u8]> {
        if self.remaining == 0 {
            return Ok(&[]);
        }
        let remaining = self.remaining;
        let buffer = self.inner.fill_buf()?;
        if buffer.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the archive ends inside an entry's data",
            ));
        }
        let n = usize::try_from(remaining).map_or(buffer.len(), |r| r.min(buffer.len()));
        Ok(&buffer[..n])
    }

    /// Marks `n` bytes of [`TarReader::data`] read.
    pub(super) fn consume(&mut self, n: usize) {
        self.inner.consume(n);
        self.remaining = self.remaining.saturating_sub(n as u64);
    }

    fn entry(&mut self, block: &[u8; BLOCK], pending: Pending) -> io::Result<Header> {
        let raw = RawHeader(block);
        let mut path = match raw.format() {
            Format::Ustar => {
                let prefix = c_string(&block[345..500]);
                let name = c_string(&block[..100]);
                if prefix.is_empty() {
                    name
                } else {
                    [prefix.as_slice(), b"/", name.as_slice()].concat()
                }
            }
            Format::Star => {
                let prefix = c_string(&block[345..476]);
                let name = c_string(&block[..100]);
                if prefix.is_empty() {
                    name
                } else {
                    [prefix.as_slice(), b"/", name.as_slice()].concat()
                }
            }
            Format::Gnu | Format::V7 => c_string(&block[..100]),
        };
        let mut link = c_string(&block[157..257]);
        let mut size = raw.size()?;
        let mut uid = raw.number(108..116, "uid")?;
        let mut gid = raw.number(116..124, "gid")?;
        if let Some(p) = pending.path {
            path = p;
        }
        if let Some(l) = pending.link {
            link = l;
        }
        if let Some(s) = pending.size {
            size = s;
        }
        uid = pending.uid.unwrap_or(uid);
        gid = pending.gid.unwrap_or(gid);
        if let Some(name) = pending.long_name.filter(|n| !n.is_empty()) {
            path = name;
        }
        if let Some(name) = pending.long_link.filter(|n| !n.is_empty()) {
            link = name;
        }
        let flag = raw.type_flag();
        let kind = match flag {
            b'0' | b'7' | b'S' => EntryType::Regular,
            0 if path.ends_with(b"/") => EntryType::Directory,
            0 => EntryType::Regular,
            b'1' => EntryType::HardLink,
            b'2' => EntryType::Symlink,
            b'5' => EntryType::Directory,
            _ => EntryType::Other,
        };
        let mode = u32::try_from(raw.number(100..108, "mode")? & 0o7777).unwrap_or(0);
        let mut file_size = size;
        if flag == b'S' {
            // An old GNU sparse file: its map may continue in extension blocks before the
            // data; its size once expanded is `realsize`.
            file_size = raw.number(483..495, "sparse size")?;
            let mut extended = block[482] != 0;
            while extended {
                let Some(extension) = self.read_header_block()? else {
                    return Err(invalid("the archive ends inside a sparse map"));
                };
                extended = extension[504] != 0;
            }
        }
        if let Some(real) = pending.sparse_size {
            file_size = real;
        }
        // Header-only types carry no data, whatever their size field says (as Go reads them).
        let header_only = matches!(
            kind,
            EntryType::HardLink | EntryType::Symlink | EntryType::Directory
        ) || matches!(flag, b'3' | b'4' | b'6');
        let data = if header_only { 0 } else { size };
        self.start_data(data);
        Ok(Header {
            path,
            link,
            kind,
            mode,
            uid,
            gid,
            size: if kind == EntryType::Regular {
                file_size
            } else {
                0
            },
        })
    }

    fn start_data(&mut self, size: u64) {
        self.remaining = size;
        self.padding = (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64;
    }

    /// Skips the rest of the current entry's data and its padding.
    fn skip_rest(&mut self) -> io::Result<()> {
        while self.remaining > 0 {
            let n = self.data()?.len();
            self.consume(n);
        }
        while self.padding > 0 {
            let buffer = self.inner.fill_buf()?;
            if buffer.is_empty() {
                // Go tolerates a missing final padding only at the end: the next header read
                // then finds EOF, which ends the archive.
                self.padding = 0;
                break;
            }
            let n = usize::try_from(self.padding).map_or(buffer.len(), |p| p.min(buffer.len()));
            self.inner.consume(n);
            self.padding -= n as u64;
        }
        Ok(())
    }

    /// The data of a PAX header or GNU long name, at most [`MAX_SPECIAL`] bytes.
    fn read_special(&mut self, size: u64, what: &str) -> io::Result<Vec<u8>> {
        if size > MAX_SPECIAL {
            return Err(invalid(format!(
                "a {what} of {size} bytes (at most {MAX_SPECIAL} are read)"
            )));
        }
        self.start_data(size);
        let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        loop {
            let data = self.data()?;
            if data.is_empty() {
                break;
            }
            out.extend_from_slice(data);
            let n = data.len();
            self.consume(n);
        }
        Ok(out)
    }

    /// One header block: `None` at the end of the archive (EOF on a block boundary, or two zero
    /// blocks).
    fn read_header_block(&mut self) -> io::Result<Option<[u8; BLOCK]>> {
        let Some(block) = self.read_block()? else {
            return Ok(None);
        };
        if block.iter().any(|&b| b != 0) {
            return Ok(Some(block));
        }
        match self.read_block()? {
            None => Ok(None),
            Some(next) if next.iter().all(|&b| b == 0) => Ok(None),
            Some(_) => Err(invalid("a zero block followed by a header")),
        }
    }

    fn read_block(&mut self) -> io::Result<Option<[u8; BLOCK]>> {
        let mut block = [0u8; BLOCK];
        let mut filled = 0;
        while filled < BLOCK {
            let buffer = self.inner.fill_buf()?;
            if buffer.is_empty() {
                if filled == 0 {
                    return Ok(None);
                }
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the archive ends inside a header",
                ));
            }
            let n = buffer.len().min(BLOCK - filled);
            block[filled..filled + n].copy_from_slice(&buffer[..n]);
            self.inner.consume(n);
            filled += n;
        }
        let raw = RawHeader(&block);
        if block.iter().any(|&b| b != 0) && !raw.checksum_ok()? {
            return Err(invalid(
                "a header's checksum does not match (is this a tar archive?)",
            ));
        }
        Ok(Some(block))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    V7,
    Ustar,
    Gnu,
    Star,
}

struct RawHeader<'a>(&'a [u8; BLOCK]);

impl RawHeader<'_> {
    fn type_flag(&self) -> u8 {
        self.0[156]
    }

    fn format(&self) -> Format {
        let magic = &self.0[257..263];
        let version = &self.0[263..265];
        if magic == b"ustar\0" && &self.0[508..512] == b"tar\0" {
            Format::Star
        } else if magic == b"ustar\0" {
            Format::Ustar
        } else if magic == b"ustar " && version == b" \0" {
            Format::Gnu
        } else {
            Format::V7
        }
    }

    fn size(&self) -> io::Result<u64> {
        self.number(124..136, "size")
    }

    /// A numeric field: octal, or base-256 when its first byte has the high bit set.
    fn number(&self, range: std::ops::Range<usize>, what: &str) -> io::Result<u64> {
        let field = &self.0[range];
        let bad = || invalid(format!("a header's {what} field is not a number"));
        if field.first().is_some_and(|b| b & 0x80 != 0) {
            if field[0] & 0x40 != 0 {
                return Err(bad());
            }
            let mut value: u64 = u64::from(field[0] & 0x3f);
            for &b in &field[1..] {
                value = value
                    .checked_mul(256)
                    .and_then(|v| v.checked_add(u64::from(b)))
                    .ok_or_else(bad)?;
            }
            return Ok(value);
        }
        let text = trim(field);
        if text.is_empty() {
            return Ok(0);
        }
        let text = std::str::from_utf8(text).map_err(|_| bad())?;
        u64::from_str_radix(text, 8).map_err(|_| bad())
    }

    /// Go accepts the unsigned and the signed sum (old tars used signed bytes).
    fn checksum_ok(&self) -> io::Result<bool> {
        let stored = self.number(148..156, "checksum")?;
        let (mut unsigned, mut signed) = (0u64, 0i64);
        for (i, &b) in self.0.iter().enumerate() {
            let b = if (148..156).contains(&i) { b' ' } else { b };
            unsigned += u64::from(b);
            signed += i64::from(b as i8);
        }
        Ok(stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed))
    }
}

/// A field with surrounding spaces and NULs removed (as Go's `parseOctal`).
fn trim(field: &[u8]) -> &[u8] {
    let is_pad = |b: &u8| *b == b' ' || *b == 0;
    let start = field.iter().position(|b| !is_pad(b)).unwrap_or(field.len());
    let end = field
        .iter()
        .rposition(|b| !is_pad(b))
        .map_or(start, |e| e + 1);
    &field[start..end]
}

/// A NUL-terminated string field.
fn c_string(field: &[u8]) -> Vec<u8> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    field[..end].to_vec()
}

/// PAX records (`LEN key=value\n`, LEN counting the whole record) into `pending`.
fn parse_pax(mut records: &[u8], pending: &mut Pending) -> io::Result<()> {
    let bad = || invalid("a PAX header is malformed");
    while !records.is_empty() {
        let space = records.iter().position(|&b| b == b' ').ok_or_else(bad)?;
        let length: usize = std::str::from_utf8(&records[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        if length <= space + 1 || length > records.len() || records[length - 1] != b'\n' {
            return Err(bad());
        }
        let record = &records[space + 1..length - 1];
        records = &records[length..];
        let equals = record.iter().position(|&b| b == b'=').ok_or_else(bad)?;
        let (key, value) = (&record[..equals], &record[equals + 1..]);
        let number = || -> io::Result<u64> {
            std::str::from_utf8(value)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| {
                    invalid(format!(
                        "PAX record `{}` is not a number",
                        String::from_utf8_lossy(key)
                    ))
                })
        };
        match key {
            b"path" => pending.path = Some(value.to_vec()),
            b"linkpath" => pending.link = Some(value.to_vec()),
            b"size" => pending.size = Some(number()?),
            b"uid" => pending.uid = Some(number()?),
            b"gid" => pending.gid = Some(number()?),
            b"GNU.sparse.size" | b"GNU.sparse.realsize" => pending.sparse_size = Some(number()?),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(bytes: &[u8]) -> io::Result<Vec<(Header, Vec<u8>)>> {
        let mut reader = TarReader::new(bytes);
        let mut out = Vec::new();
        while let Some(header) = reader.next()? {
            let mut data = Vec::new();
            loop {
                let chunk = reader.data()?;
                if chunk.is_empty() {
                    break;
                }
                data.extend_from_slice(chunk);
                let n = chunk.len();
                reader.consume(n);
            }
            out.push((header, data));
        }
        Ok(out)
    }

    fn builder() -> tar::Builder<Vec<u8>> {
        tar::Builder::new(Vec::new())
    }

    fn add(b: &mut tar::Builder<Vec<u8>>, path: &str, kind: tar::EntryType, data: &[u8]) {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(0o4755);
        header.set_uid(7);
        header.set_gid(8);
        header.set_size(data.len() as u64);
        b.append_data(&mut header, path, data).unwrap();
    }

    #[test]
    fn reads_what_the_tar_crate_writes_long_names_included() {
        let mut b = builder();
        add(
            &mut b,
            "etc/passwd",
            tar::EntryType::Regular,
            b"root:x:0:0\n",
        );
        add(&mut b, "etc/", tar::EntryType::Directory, b"");
        let long = format!("{}/file", "d".repeat(200));
        add(&mut b, &long, tar::EntryType::Regular, b"x");
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        b.append_link(
            &mut header,
            "bin/sh",
            "/usr/bin/dash-with-a-long-name".repeat(5),
        )
        .unwrap();
        let bytes = b.into_inner().unwrap();
        let got = entries(&bytes).unwrap();
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].0.path, b"etc/passwd");
        assert_eq!(got[0].0.mode, 0o4755);
        assert_eq!((got[0].0.uid, got[0].0.gid, got[0].0.size), (7, 8, 11));
        assert_eq!(got[0].1, b"root:x:0:0\n");
        assert_eq!(got[1].0.kind, EntryType::Directory);
        assert_eq!(got[2].0.path, long.as_bytes());
        assert_eq!(got[3].0.kind, EntryType::Symlink);
        assert_eq!(got[3].0.link.len(), 150);
    }

    #[test]
    fn pax_records_override_the_header() {
        let mut b = builder();
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(3);
        header.set_path("short").unwrap();
        header.set_cksum();
        b.append_pax_extensions([("path", b"pax/name".as_slice()), ("uid", b"1000000")])
            .unwrap();
        b.append(&header, &b"abc"[..]).unwrap();
        let got = entries(&b.into_inner().unwrap()).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0.path, b"pax/name");
        assert_eq!(got[0].0.uid, 1_000_000);
        assert_eq!(got[0].1, b"abc");
    }

    #[test]
    fn header_only_types_have_no_data_whatever_their_size_says() {
        // A directory claiming 512 bytes of data: Go reads the next block as the next header.
        let mut b = builder();
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_path("d/").unwrap();
        header.set_size(512);
        header.set_cksum();
        let mut bytes = header.as_bytes().to_vec();
        add(&mut b, "f", tar::EntryType::Regular, b"data");
        bytes.extend(b.into_inner().unwrap());
        let got = entries(&bytes).unwrap();
        let paths: Vec<&[u8]> = got.iter().map(|(h, _)| h.path.as_slice()).collect();
        assert_eq!(paths, [b"d/".as_slice(), b"f"]);
    }

    #[test]
    fn ends_and_breaks_like_go() {
        // EOF on a header boundary, without the zero blocks, ends the archive.
        let mut b = builder();
        add(&mut b, "a", tar::EntryType::Regular, b"12");
        add(&mut b, "b", tar::EntryType::Regular, b"3");
        let bytes = b.into_inner().unwrap();
        assert_eq!(entries(&bytes[..1024]).unwrap().len(), 1);
        // Padding cut short at the end is tolerated, as Go's tryReadFull does.
        assert_eq!(entries(&bytes[..600]).unwrap().len(), 1);
        assert!(entries(&bytes[..1100]).is_err(), "ends inside the header");
        assert!(entries(&bytes[..513]).is_err(), "ends inside the data");
        let mut zero_then_header = bytes[..1024].to_vec();
        zero_then_header.extend([0u8; 512]);
        zero_then_header.extend_from_slice(&bytes[..512]);
        assert!(entries(&zero_then_header).is_err());
        let mut garbage = bytes.clone();
        garbage[0] ^= 1;
        let err = entries(&garbage).unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
        assert!(entries(b"").unwrap().is_empty());
    }

    #[test]
    fn refuses_huge_extended_headers() {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::GNULongName);
        header.set_path("././@LongLink").unwrap();
        header.set_size(MAX_SPECIAL + 1);
        header.set_cksum();
        let err = entries(header.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("long name"), "{err}");
        let mut parsed = Pending::default();
        assert!(parse_pax(b"5 a=b\n", &mut parsed).is_err());
        assert!(parse_pax(b"9 uid=x1\n", &mut parsed).is_err());
        parse_pax(b"12 size=512\n", &mut parsed).unwrap();
        assert_eq!(parsed.size, Some(512));
    }

    #[test]
    fn reads_base_256_numbers() {
        let mut block = [0u8; BLOCK];
        block[124] = 0x80;
        block[135] = 0x02;
        assert_eq!(RawHeader(&block).size().unwrap(), 2);
        block[124] = 0xff;
        assert!(RawHeader(&block).size().is_err(), "negative");
    }
}
