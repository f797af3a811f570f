//! Append-only logs of typed records on a node's [`Disk`]: the framing (length and checksum)
//! and the recovery read that every log-keeping system does the same way (the 2PC store's
//! write-ahead logs, the saga store's saga and service logs).
//!
//! A record is `[len: u32 LE][checksum: u32 LE][postcard payload]`. A power loss in the middle
//! of an append leaves a torn tail (a record cut short, or zero bytes); reading stops at the
//! first record that is not intact, and [`recover`] cuts the file there, so that later
//! appends follow intact records. Decoding never panics: garbage reads as no records.

use super::disk::Disk;
use super::frame::checksum;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Encodes one record.
pub fn encode_record<T: Serialize>(record: &T) -> Vec<u8> {
    let payload = postcard::to_allocvec(record).unwrap_or_default();
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&checksum(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Decodes the record at the start of `bytes` and its length, or `None` for a torn or
/// garbled tail.
pub fn decode_record<T: DeserializeOwned>(bytes: &[u8]) -> Option<(T, usize)> {
    let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let sum = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?);
    let payload = bytes.get(8..8usize.checked_add(len)?)?;
    if checksum(payload) != sum {
        return None;
    }
    Some((postcard::from_bytes(payload).ok()?, 8 + len))
}

/// Reads a whole log: its intact records, and the length of the intact prefix.
pub fn read_log<T: DeserializeOwned>(bytes: &[u8]) -> (Vec<T>, usize) {
    let mut records = Vec::new();
    let mut at = 0;
    while let Some((r, len)) = bytes.get(at..).and_then(decode_record::<T>) {
        records.push(r);
        at += len;
    }
    (records, at)
}

/// Reads the log `file` at a node's start: its intact records. A torn tail is cut off, and
/// the file synced: what a crashed process wrote but never synced survives a restart and is
/// read back here, so it is made durable before the node acts on it — or a later power loss
/// would take back something this incarnation already acted on.
pub fn recover<T: DeserializeOwned>(disk: &Disk, file: &str) -> Vec<T> {
    let bytes = disk.read(file);
    let (records, intact) = read_log(&bytes);
    if intact < bytes.len() {
        disk.truncate(file, intact);
    }
    disk.sync(file);
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_a_torn_tail_is_cut_on_recovery() {
        let (a, b) = (String::from("first"), String::from("second"));
        let disk = Disk::new();
        disk.append("log", &encode_record(&a));
        disk.append("log", &encode_record(&b));
        let whole = disk.len("log");
        assert_eq!(
            read_log::<String>(&disk.read("log")),
            (vec![a.clone(), b], whole)
        );
        disk.append("log", &[0, 0, 0]);
        disk.truncate("log", whole - 1);
        assert_eq!(recover::<String>(&disk, "log"), vec![a.clone()]);
        assert_eq!(disk.len("log"), encode_record(&a).len());
        // Garbage reads as no records, never as a panic.
        assert_eq!(read_log::<String>(&[0xff; 40]).0, Vec::<String>::new());
    }
}
