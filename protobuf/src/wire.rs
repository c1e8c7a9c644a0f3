//! The protobuf wire format: varints, fixed 32/64-bit values and length-delimited bytes.

use crate::DecodeError;

pub(crate) const VARINT: u8 = 0;
pub(crate) const FIXED64: u8 = 1;
pub(crate) const LEN: u8 = 2;
pub(crate) const FIXED32: u8 = 5;

/// A value as read off the wire, before its field's type gives it a meaning.
#[derive(Clone, Copy)]
pub(crate) enum Raw<'a> {
    Varint(u64),
    Fixed64(u64),
    Len(&'a [u8]),
    /// Only skipped: no Kubernetes field is a fixed32 or float.
    Fixed32,
}

impl Raw<'_> {
    pub(crate) fn wire_type(&self) -> u8 {
        match self {
            Raw::Varint(_) => VARINT,
            Raw::Fixed64(_) => FIXED64,
            Raw::Len(_) => LEN,
            Raw::Fixed32 => FIXED32,
        }
    }
}

/// Reads (tag, value) pairs from a message's bytes.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for (i, &b) in self.buf.iter().enumerate().take(10) {
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                self.buf = &self.buf[i + 1..];
                return Ok(value);
            }
        }
        Err(DecodeError::malformed("bad varint"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError::malformed("truncated"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// The next field, or None at the end.
    pub(crate) fn next(&mut self) -> Result<Option<(u32, Raw<'a>)>, DecodeError> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let tag = u32::try_from(key >> 3).map_err(|_| DecodeError::malformed("bad field number"))?;
        if tag == 0 {
            return Err(DecodeError::malformed("field number 0"));
        }
        let raw = match (key & 7) as u8 {
            VARINT => Raw::Varint(self.varint()?),
            FIXED64 => Raw::Fixed64(u64::from_le_bytes(self.fixed()?)),
            LEN => {
                let n = usize::try_from(self.varint()?).map_err(|_| DecodeError::malformed("truncated"))?;
                Raw::Len(self.take(n)?)
            }
            FIXED32 => {
                self.take(4)?;
                Raw::Fixed32
            }
            _ => return Err(DecodeError::malformed("unsupported wire type (groups)")),
        };
        Ok(Some((tag, raw)))
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }
}
