//! A small, strict, namespace-aware XML tree for SAML documents (IdP metadata, responses and
//! assertions after signature reduction).
//!
//! Written here instead of using samael's serde models because those match elements by local
//! name only (an `<evil:Assertion>` in another namespace parses as an assertion), keep only the
//! first text node of an element (the NameID comment-injection attack), and expose no limits.
//! This parser resolves every element and attribute to `(namespace, local name)`, joins all
//! character data of an element (comments are dropped, never split a value), refuses DTDs
//! (and with them entity expansion and external entities), undefined entities and processing
//! instructions, and bounds depth and element count.

use std::collections::BTreeMap;

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

/// The SAML 2.0 assertion namespace.
pub const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// The SAML 2.0 protocol namespace.
pub const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// The SAML 2.0 metadata namespace.
pub const METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// XML Signature.
pub const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
/// XML Encryption.
pub const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
/// XML Encryption 1.1.
pub const XENC11: &str = "http://www.w3.org/2009/xmlenc11#";

/// Parsing limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest document, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of elements.
    pub max_depth: usize,
    /// Most elements in the document.
    pub max_elements: usize,
}

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// Larger than the limits allow.
    #[error("the XML document is too large ({0})")]
    TooLarge(&'static str),
    /// Has a document type declaration (DTDs, entities and external references are refused).
    #[error("the XML document has a DOCTYPE; DTDs and entities are not accepted")]
    Dtd,
    /// Not well-formed, or uses something this parser refuses.
    #[error("the XML is malformed: {0}")]
    Malformed(String),
}

/// An element: its namespace, local name, attributes (by local name, or `{ns}name` when
/// namespaced), children and the text directly inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// The namespace URI (empty when unbound).
    pub namespace: String,
    /// The local name.
    pub name: String,
    attributes: BTreeMap<String, String>,
    /// Child elements in document order.
    pub children: Vec<Element>,
    text: String,
}

impl Element {
    /// Whether this element is `{namespace}name`.
    pub fn is(&self, namespace: &str, name: &str) -> bool {
        self.namespace == namespace && self.name == name
    }

    /// An unqualified attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }

    /// A namespaced attribute (such as `xsi:type`).
    pub fn attr_ns(&self, namespace: &str, name: &str) -> Option<&str> {
        self.attributes
            .get(&format!("{{{namespace}}}{name}"))
            .map(String::as_str)
    }

    /// All text directly inside the element, CDATA and references included, comments left
    /// out: `a<!---->b` is `ab`, exactly what the IdP signed.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Child elements named `{namespace}name`.
    pub fn children_named<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(namespace, name))
    }

    /// The first child named `{namespace}name`.
    pub fn child(&self, namespace: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(namespace, name))
    }

    /// Every element below this one, depth first (for the signature checks).
    pub fn descendants(&self) -> Vec<&Element> {
        let mut out = Vec::new();
        let mut stack: Vec<&Element> = self.children.iter().rev().collect();
        while let Some(element) = stack.pop() {
            out.push(element);
            stack.extend(element.children.iter().rev());
        }
        out
    }
}

fn malformed(error: impl std::fmt::Display) -> XmlError {
    XmlError::Malformed(error.to_string().chars().take(200).collect())
}

fn namespace_of(resolved: ResolveResult<'_>) -> Result<String, XmlError> {
    match resolved {
        ResolveResult::Bound(ns) => Ok(String::from_utf8_lossy(ns.as_ref()).into_owned()),
        ResolveResult::Unbound => Ok(String::new()),
        ResolveResult::Unknown(prefix) => Err(malformed(format!(
            "undeclared namespace prefix '{}'",
            String::from_utf8_lossy(&prefix)
        ))),
    }
}

fn open(reader: &NsReader<&[u8]>, start: &BytesStart<'_>) -> Result<Element, XmlError> {
    let (resolved, local) = reader.resolver().resolve_element(start.name());
    let namespace = namespace_of(resolved)?;
    let name = String::from_utf8_lossy(local.as_ref()).into_owned();
    let mut attributes = BTreeMap::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(malformed)?;
        if attribute.key.as_namespace_binding().is_some() {
            continue;
        }
        let (resolved, local) = reader.resolver().resolve_attribute(attribute.key);
        let local = String::from_utf8_lossy(local.as_ref()).into_owned();
        let key = match namespace_of(resolved)? {
            ns if ns.is_empty() => local,
            ns => format!("{{{ns}}}{local}"),
        };
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(malformed)?
            .into_owned();
        if attributes.insert(key.clone(), value).is_some() {
            return Err(malformed(format!("attribute '{key}' appears twice")));
        }
    }
    Ok(Element {
        namespace,
        name,
        attributes,
        children: Vec::new(),
        text: String::new(),
    })
}

fn predefined_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

/// Parses `xml` into its root element.
pub fn parse(xml: &str, limits: Limits) -> Result<Element, XmlError> {
    if xml.len() > limits.max_bytes {
        return Err(XmlError::TooLarge("bytes"));
    }
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let event = reader.read_event().map_err(malformed)?;
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(malformed("content after the root element"));
            }
            Event::Start(ref start) => {
                count += 1;
                if count > limits.max_elements {
                    return Err(XmlError::TooLarge("elements"));
                }
                if stack.len() >= limits.max_depth {
                    return Err(XmlError::TooLarge("depth"));
                }
                let element = open(&reader, start)?;
                stack.push(element);
            }
            Event::Empty(ref start) => {
                count += 1;
                if count > limits.max_elements {
                    return Err(XmlError::TooLarge("elements"));
                }
                let element = open(&reader, start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or_else(|| malformed("unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(text) => {
                let text = text.xml10_content().map_err(malformed)?;
                match stack.last_mut() {
                    Some(element) => element.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(malformed("text outside the root element")),
                }
            }
            Event::CData(data) => {
                let data = data.decode().map_err(malformed)?;
                match stack.last_mut() {
                    Some(element) => element.text.push_str(&data),
                    None => return Err(malformed("CDATA outside the root element")),
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = if reference.is_char_ref() {
                    reference.resolve_char_ref().map_err(malformed)?
                } else {
                    let name = reference.decode().map_err(malformed)?;
                    predefined_entity(&name)
                };
                let c = resolved.ok_or_else(|| malformed("undefined entity reference"))?;
                match stack.last_mut() {
                    Some(element) => element.text.push(c),
                    None => return Err(malformed("a reference outside the root element")),
                }
            }
            Event::Comment(_) | Event::Decl(_) => {}
            Event::DocType(_) => return Err(XmlError::Dtd),
            Event::PI(_) => return Err(malformed("processing instructions are not accepted")),
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(malformed("the document ends inside an element"));
    }
    root.ok_or_else(|| malformed("no root element"))
}

/// Whether the document has a DOCTYPE, checked before anything else reads it (libxml2, under
/// xmlsec, must never see one).
pub fn has_doctype(xml: &str) -> bool {
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::DocType(_)) => return true,
            Ok(Event::Start(_) | Event::Empty(_) | Event::Eof) | Err(_) => return false,
            Ok(_) => {}
        }
    }
}

/// The document with comments removed, everything else as it was. Exclusive canonicalization
/// without comments (what SAML signatures use) ignores comments, so the signature still
/// verifies, and text split by a comment becomes one text node again before anything reads it.
pub fn without_comments(xml: &str) -> Result<String, XmlError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut writer = quick_xml::Writer::new(Vec::with_capacity(xml.len()));
    loop {
        match reader.read_event().map_err(malformed)? {
            Event::Comment(_) => {}
            Event::Eof => break,
            event => writer.write_event(event).map_err(malformed)?,
        }
    }
    String::from_utf8(writer.into_inner()).map_err(malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_bytes: 1 << 20,
        max_depth: 32,
        max_elements: 1000,
    };

    #[test]
    fn text_split_by_a_comment_is_read_whole() {
        let root = parse(
            r#"<a:NameID xmlns:a="urn:x">user@evil.test<!---->.attacker.test</a:NameID>"#,
            LIMITS,
        )
        .unwrap();
        assert_eq!(root.text(), "user@evil.test.attacker.test");
        assert!(root.is("urn:x", "NameID"));
    }

    #[test]
    fn comments_are_removed_without_touching_the_rest() {
        let xml = r#"<r a="1&amp;2">x<!-- hi -->y<![CDATA[<z>]]></r>"#;
        assert_eq!(
            without_comments(xml).unwrap(),
            r#"<r a="1&amp;2">xy<![CDATA[<z>]]></r>"#
        );
    }

    #[test]
    fn elements_resolve_to_their_namespace_not_their_prefix() {
        let root = parse(
            r#"<p:Response xmlns:p="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:evil="urn:evil"><evil:Assertion/></p:Response>"#,
            LIMITS,
        )
        .unwrap();
        assert!(root.is(PROTOCOL, "Response"));
        assert!(root.child(ASSERTION, "Assertion").is_none());
        assert!(root.child("urn:evil", "Assertion").is_some());
    }

    #[test]
    fn doctype_and_entities_are_refused() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
        assert!(has_doctype(xxe));
        assert_eq!(parse(xxe, LIMITS), Err(XmlError::Dtd));
        assert!(matches!(
            parse("<r>&x;</r>", LIMITS),
            Err(XmlError::Malformed(_))
        ));
        assert_eq!(parse("<r>&#65;&lt;</r>", LIMITS).unwrap().text(), "A<");
    }

    #[test]
    fn limits_and_malformed_documents_are_errors_not_panics() {
        let deep = "<a>".repeat(40) + &"</a>".repeat(40);
        assert_eq!(parse(&deep, LIMITS), Err(XmlError::TooLarge("depth")));
        let wide = format!("<r>{}</r>", "<a/>".repeat(1001));
        assert_eq!(parse(&wide, LIMITS), Err(XmlError::TooLarge("elements")));
        for bad in [
            "",
            "<r>",
            "<r></s>",
            "<r/><s/>",
            "<x:r/>",
            "<r a='1' a='2'/>",
            "<?pi x?><r/>",
            "text",
        ] {
            assert!(parse(bad, LIMITS).is_err(), "{bad} parsed");
        }
    }
}
