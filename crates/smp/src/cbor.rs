//! Hand-written request decoding helpers over minicbor.
//!
//! SMP request bodies are text-keyed maps, definite or indefinite. [`for_each_entry`] walks
//! one and hands each key to the caller, which either decodes the value or declines it (the
//! value is then skipped). Any malformed item, non-text key or non-map body is an error that
//! the dispatcher answers with `rc` 3 (EINVAL), as Zephyr does.

use minicbor::data::Type;
use minicbor::Decoder;

use crate::server::Error;
use crate::wire::Rc;

/// Walks the top-level map of `payload`. `f(key, decoder)` returns `Ok(true)` when it
/// consumed the value, `Ok(false)` to have it skipped.
///
/// An empty payload is an error, as in Zephyr (commands that parse input fail with EINVAL).
pub fn for_each_entry<'b>(
    payload: &'b [u8],
    mut f: impl FnMut(&'b str, &mut Decoder<'b>) -> Result<bool, Error>,
) -> Result<(), Error> {
    let mut d = Decoder::new(payload);
    let len = d.map()?;
    let mut i = 0u64;
    loop {
        match len {
            Some(n) if i == n => break,
            Some(_) => {}
            None => {
                if d.datatype()? == Type::Break {
                    break;
                }
            }
        }
        let key = d.str()?;
        if !f(key, &mut d)? {
            skip(&mut d)?;
        }
        i += 1;
    }
    Ok(())
}

/// Deepest container nesting [`skip`] follows when it has to walk an item itself.
const SKIP_DEPTH: usize = 32;

/// Skips one data item (with everything nested in it), as zcbor's `zcbor_any_skip` does.
///
/// minicbor's own `skip` is tried first; built without `alloc`, it refuses indefinite-length
/// arrays and maps nested inside definite ones (`[[_ 1], 2]`), which are well-formed CBOR
/// that Zephyr skips. Those are walked here with a fixed-size stack of open containers
/// (no allocation); nesting deeper than `SKIP_DEPTH` is refused.
pub fn skip(d: &mut Decoder<'_>) -> Result<(), Error> {
    let mut probe = d.clone();
    if probe.skip().is_ok() {
        *d = probe;
        return Ok(());
    }
    // Items still due in each open container; `None` for an indefinite one (ends at a
    // break).
    let mut open = heapless::Vec::<Option<u64>, SKIP_DEPTH>::new();
    loop {
        match d.datatype()? {
            // A tag is a prefix of the item that follows it.
            Type::Tag => {
                d.tag()?;
                continue;
            }
            Type::Break => {
                if open.last() != Some(&None) {
                    return Err(Error::Rc(Rc::Inval));
                }
                d.set_position(d.position() + 1);
                open.pop();
            }
            Type::Array | Type::ArrayIndef => match d.array()? {
                Some(0) => {}
                n => {
                    open.push(n).map_err(|_| Rc::Inval)?;
                    continue;
                }
            },
            Type::Map | Type::MapIndef => match d.map()? {
                Some(0) => {}
                n => {
                    let items = n.map(|n| n.saturating_mul(2));
                    open.push(items).map_err(|_| Rc::Inval)?;
                    continue;
                }
            },
            // Scalars and (possibly chunked) strings.
            _ => d.skip()?,
        }
        // One item is complete: count it against the definite containers it closes.
        loop {
            match open.last_mut() {
                None => return Ok(()),
                Some(None) => break,
                Some(Some(n)) => {
                    *n -= 1;
                    if *n > 0 {
                        break;
                    }
                    open.pop();
                }
            }
        }
    }
}

/// Stores `v` in `slot`, failing with EINVAL if the key was already seen (Zephyr rejects
/// duplicate known keys).
pub fn once<T>(slot: &mut Option<T>, v: T) -> Result<bool, Error> {
    if slot.is_some() {
        return Err(Error::Rc(Rc::Inval));
    }
    *slot = Some(v);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(p: &[u8]) -> Result<heapless::Vec<heapless::String<8>, 8>, Error> {
        let mut out = heapless::Vec::new();
        for_each_entry(p, |k, d| {
            let _ = out.push(heapless::String::try_from(k).unwrap());
            if k == "d" {
                d.str()?;
                Ok(true)
            } else {
                Ok(false)
            }
        })?;
        Ok(out)
    }

    #[test]
    fn definite_and_indefinite_maps() {
        // {"d":"x","z":[1,2]} indefinite and definite
        let indef = [
            0xbf, 0x61, 0x64, 0x61, 0x78, 0x61, 0x7a, 0x82, 0x01, 0x02, 0xff,
        ];
        let def = [0xa2, 0x61, 0x64, 0x61, 0x78, 0x61, 0x7a, 0x82, 0x01, 0x02];
        assert_eq!(keys(&indef).unwrap().len(), 2);
        assert_eq!(keys(&def).unwrap().len(), 2);
        assert_eq!(keys(&[0xa0]).unwrap().len(), 0);
        assert_eq!(keys(&[0xbf, 0xff]).unwrap().len(), 0);
    }

    #[test]
    fn malformed_is_einval() {
        let inval = Err(Error::Rc(Rc::Inval));
        assert_eq!(keys(&[]).map(|_| ()), inval); // empty payload
        assert_eq!(keys(&[0x80]).map(|_| ()), inval); // array, not map
        assert_eq!(keys(&[0xa1, 0x01, 0x02]).map(|_| ()), inval); // int key
        assert_eq!(keys(&[0xbf, 0x61, 0x64]).map(|_| ()), inval); // truncated
        assert_eq!(keys(&[0xa1, 0x61, 0x64, 0x01]).map(|_| ()), inval); // wrong type for d
    }

    #[test]
    fn unknown_values_with_nested_indefinite_items_are_skipped() {
        // {"z":[[_ 1], 2], "d":"x"}: an indefinite array inside a definite one.
        let a = [
            0xa2, 0x61, 0x7a, 0x82, 0x9f, 0x01, 0xff, 0x02, 0x61, 0x64, 0x61, 0x78,
        ];
        assert_eq!(keys(&a).unwrap().len(), 2);
        // {"z":{"k":{_ "m":[_ ]}, "n":[1, {_ }, 2]}, "d":"x"}
        let b = [
            0xa2, 0x61, 0x7a, 0xa2, 0x61, 0x6b, 0xbf, 0x61, 0x6d, 0x9f, 0xff, 0xff, 0x61, 0x6e,
            0x83, 0x01, 0xbf, 0xff, 0x02, 0x61, 0x64, 0x61, 0x78,
        ];
        assert_eq!(keys(&b).unwrap().len(), 2);
        // Still malformed: a missing item after a nested container, or a missing break.
        let inval = Err(Error::Rc(Rc::Inval));
        assert_eq!(
            keys(&[0xa1, 0x61, 0x7a, 0x82, 0x9f, 0xff]).map(|_| ()),
            inval
        );
        assert_eq!(
            keys(&[0xa1, 0x61, 0x7a, 0x81, 0x9f, 0x01]).map(|_| ()),
            inval
        );
        // Nesting deeper than the skip stack is refused, not overflowed.
        let mut deep = heapless::Vec::<u8, 128>::new();
        deep.extend_from_slice(&[0xa1, 0x61, 0x7a, 0x82]).unwrap();
        deep.extend_from_slice(&[0x9f; 40]).unwrap();
        deep.extend_from_slice(&[0xff; 40]).unwrap();
        deep.push(0x01).unwrap();
        let mut ok = deep.clone();
        ok.truncate(4);
        ok.extend_from_slice(&[0x9f; 20]).unwrap();
        ok.extend_from_slice(&[0xff; 20]).unwrap();
        ok.push(0x01).unwrap();
        assert_eq!(keys(&ok).unwrap().len(), 1);
        assert_eq!(keys(&deep).map(|_| ()), inval);
    }

    #[test]
    fn once_rejects_duplicates() {
        let mut s = None;
        assert!(once(&mut s, 1).is_ok());
        assert!(once(&mut s, 2).is_err());
    }
}
