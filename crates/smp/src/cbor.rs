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
            d.skip()?;
        }
        i += 1;
    }
    Ok(())
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
    fn once_rejects_duplicates() {
        let mut s = None;
        assert!(once(&mut s, 1).is_ok());
        assert!(once(&mut s, 2).is_err());
    }
}
