//! XML Encryption of assertions (`EncryptedAssertion`): the IdP encrypts a content key to the
//! connection's SP encryption certificate with RSA-OAEP, and the assertion with AES-CBC or
//! AES-GCM under that key.
//!
//! Written here with OpenSSL (already linked for xmlsec) instead of samael's decryption, which
//! supports only AES-128 (most IdPs use AES-256), accepts RSA PKCS#1 v1.5 key transport
//! (Bleichenbacher-style oracles) and slices ciphertext without checking its length (a short
//! value panics). Every failure is the same [`DecryptError`]: telling padding, key and format
//! failures apart would hand an attacker a decryption oracle.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use openssl::md::{Md, MdRef};
use openssl::pkey::{PKey, Private};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;
use openssl::symm::{Cipher, Crypter, Mode, decrypt_aead};

use crate::federation::saml::xml::{DSIG, Element, XENC, XENC11};

/// The assertion could not be decrypted (deliberately without detail).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the encrypted assertion could not be decrypted")]
pub struct DecryptError;

const RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
const RSA_OAEP: &str = "http://www.w3.org/2009/xmlenc11#rsa-oaep";

/// The data encryption algorithms Tessera decrypts, as advertised in SP metadata.
pub const DATA_ALGORITHMS: &[&str] = &[
    "http://www.w3.org/2009/xmlenc11#aes256-gcm",
    "http://www.w3.org/2009/xmlenc11#aes128-gcm",
    "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
    "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
];
/// The key transport algorithms Tessera accepts, as advertised in SP metadata.
pub const KEY_ALGORITHMS: &[&str] = &[RSA_OAEP_MGF1P, RSA_OAEP];

enum DataCipher {
    Cbc(Cipher),
    Gcm(Cipher),
}

fn data_cipher(algorithm: &str) -> Option<DataCipher> {
    Some(match algorithm {
        "http://www.w3.org/2001/04/xmlenc#aes128-cbc" => DataCipher::Cbc(Cipher::aes_128_cbc()),
        "http://www.w3.org/2001/04/xmlenc#aes192-cbc" => DataCipher::Cbc(Cipher::aes_192_cbc()),
        "http://www.w3.org/2001/04/xmlenc#aes256-cbc" => DataCipher::Cbc(Cipher::aes_256_cbc()),
        "http://www.w3.org/2009/xmlenc11#aes128-gcm" => DataCipher::Gcm(Cipher::aes_128_gcm()),
        "http://www.w3.org/2009/xmlenc11#aes192-gcm" => DataCipher::Gcm(Cipher::aes_192_gcm()),
        "http://www.w3.org/2009/xmlenc11#aes256-gcm" => DataCipher::Gcm(Cipher::aes_256_gcm()),
        _ => return None,
    })
}

fn digest(algorithm: Option<&str>) -> Option<&'static MdRef> {
    Some(match algorithm {
        None | Some("http://www.w3.org/2000/09/xmldsig#sha1") => Md::sha1(),
        Some("http://www.w3.org/2001/04/xmlenc#sha256") => Md::sha256(),
        Some("http://www.w3.org/2001/04/xmldsig-more#sha384") => Md::sha384(),
        Some("http://www.w3.org/2001/04/xmlenc#sha512") => Md::sha512(),
        _ => return None,
    })
}

fn mgf(algorithm: Option<&str>) -> Option<&'static MdRef> {
    Some(match algorithm {
        None | Some("http://www.w3.org/2009/xmlenc11#mgf1sha1") => Md::sha1(),
        Some("http://www.w3.org/2009/xmlenc11#mgf1sha256") => Md::sha256(),
        Some("http://www.w3.org/2009/xmlenc11#mgf1sha384") => Md::sha384(),
        Some("http://www.w3.org/2009/xmlenc11#mgf1sha512") => Md::sha512(),
        _ => return None,
    })
}

fn cipher_value(element: &Element) -> Result<Vec<u8>, DecryptError> {
    let value = element
        .child(XENC, "CipherData")
        .and_then(|d| d.child(XENC, "CipherValue"))
        .ok_or(DecryptError)?;
    let compact: String = value.text().split_whitespace().collect();
    STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| DecryptError)
}

/// The EncryptedKey: inside the EncryptedData's KeyInfo, or beside it in the
/// EncryptedAssertion (Okta and Shibboleth do the latter).
fn encrypted_key<'a>(assertion: &'a Element, data: &'a Element) -> Option<&'a Element> {
    data.child(DSIG, "KeyInfo")
        .and_then(|info| info.child(XENC, "EncryptedKey"))
        .or_else(|| assertion.child(XENC, "EncryptedKey"))
}

fn unwrap_key(key: &Element, private: &PKey<Private>) -> Result<Vec<u8>, DecryptError> {
    let method = key.child(XENC, "EncryptionMethod").ok_or(DecryptError)?;
    let algorithm = method.attr("Algorithm").ok_or(DecryptError)?;
    if !KEY_ALGORITHMS.contains(&algorithm) {
        return Err(DecryptError);
    }
    let oaep = digest(
        method
            .child(DSIG, "DigestMethod")
            .and_then(|d| d.attr("Algorithm")),
    )
    .ok_or(DecryptError)?;
    let mgf = if algorithm == RSA_OAEP {
        mgf(method
            .child(XENC11, "MGF")
            .and_then(|m| m.attr("Algorithm")))
        .ok_or(DecryptError)?
    } else {
        Md::sha1()
    };
    let encrypted = cipher_value(key)?;
    let run = || -> Result<Vec<u8>, openssl::error::ErrorStack> {
        let mut ctx = PkeyCtx::new(private)?;
        ctx.decrypt_init()?;
        ctx.set_rsa_padding(Padding::PKCS1_OAEP)?;
        ctx.set_rsa_oaep_md(oaep)?;
        ctx.set_rsa_mgf1_md(mgf)?;
        let mut out = Vec::new();
        ctx.decrypt_to_vec(&encrypted, &mut out)?;
        Ok(out)
    };
    run().map_err(|_| DecryptError)
}

fn decrypt_cbc(cipher: Cipher, key: &[u8], data: &[u8]) -> Result<Vec<u8>, DecryptError> {
    let block = cipher.block_size();
    let iv_len = cipher.iv_len().ok_or(DecryptError)?;
    if data.len() < iv_len + block || !(data.len() - iv_len).is_multiple_of(block) {
        return Err(DecryptError);
    }
    let (iv, body) = data.split_at(iv_len);
    let mut crypter =
        Crypter::new(cipher, Mode::Decrypt, key, Some(iv)).map_err(|_| DecryptError)?;
    // XML Encryption pads like ISO 10126 (only the last byte is defined), not PKCS#7.
    crypter.pad(false);
    let mut out = vec![0; body.len() + block];
    let mut n = crypter.update(body, &mut out).map_err(|_| DecryptError)?;
    n += crypter.finalize(&mut out[n..]).map_err(|_| DecryptError)?;
    out.truncate(n);
    let pad = usize::from(*out.last().ok_or(DecryptError)?);
    if pad == 0 || pad > block || pad > out.len() {
        return Err(DecryptError);
    }
    out.truncate(out.len() - pad);
    Ok(out)
}

fn decrypt_gcm(cipher: Cipher, key: &[u8], data: &[u8]) -> Result<Vec<u8>, DecryptError> {
    const IV: usize = 12;
    const TAG: usize = 16;
    if data.len() < IV + TAG {
        return Err(DecryptError);
    }
    let (iv, rest) = data.split_at(IV);
    let (body, tag) = rest.split_at(rest.len() - TAG);
    decrypt_aead(cipher, key, Some(iv), &[], body, tag).map_err(|_| DecryptError)
}

/// The plaintext assertion XML inside an `EncryptedAssertion` element.
pub fn decrypt(assertion: &Element, private: &PKey<Private>) -> Result<String, DecryptError> {
    let data = assertion.child(XENC, "EncryptedData").ok_or(DecryptError)?;
    let algorithm = data
        .child(XENC, "EncryptionMethod")
        .and_then(|m| m.attr("Algorithm"))
        .ok_or(DecryptError)?;
    let cipher = data_cipher(algorithm).ok_or(DecryptError)?;
    let key = unwrap_key(encrypted_key(assertion, data).ok_or(DecryptError)?, private)?;
    let (expected_len, encrypted) = match &cipher {
        DataCipher::Cbc(c) | DataCipher::Gcm(c) => (c.key_len(), cipher_value(data)?),
    };
    if key.len() != expected_len {
        return Err(DecryptError);
    }
    let plain = match cipher {
        DataCipher::Cbc(c) => decrypt_cbc(c, &key, &encrypted)?,
        DataCipher::Gcm(c) => decrypt_gcm(c, &key, &encrypted)?,
    };
    String::from_utf8(plain).map_err(|_| DecryptError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_or_misaligned_ciphertexts_fail_cleanly() {
        let key = [7u8; 32];
        for len in [0, 5, 16, 17, 31] {
            assert_eq!(
                decrypt_cbc(Cipher::aes_256_cbc(), &key, &vec![0; len]),
                Err(DecryptError)
            );
        }
        for len in [0, 12, 27] {
            assert_eq!(
                decrypt_gcm(Cipher::aes_256_gcm(), &key, &vec![0; len]),
                Err(DecryptError)
            );
        }
    }

    #[test]
    fn cbc_strips_xml_encryption_padding() {
        let key = [3u8; 16];
        let iv = [9u8; 16];
        // "hello" + 10 arbitrary bytes + the pad length (11).
        let mut plain = b"hello".to_vec();
        plain.extend_from_slice(&[0xAA; 10]);
        plain.push(11);
        let mut c = Crypter::new(Cipher::aes_128_cbc(), Mode::Encrypt, &key, Some(&iv)).unwrap();
        c.pad(false);
        let mut out = vec![0; 32];
        let n = c.update(&plain, &mut out).unwrap();
        out.truncate(n);
        let mut data = iv.to_vec();
        data.extend_from_slice(&out);
        assert_eq!(
            decrypt_cbc(Cipher::aes_128_cbc(), &key, &data).unwrap(),
            b"hello"
        );
    }
}
