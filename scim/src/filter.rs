//! The filter language of RFC 7644 §3.4.2.2 as a syntax tree, and its parser. Also the PATCH
//! `path` grammar (RFC 7644 §3.5.2), which reuses the filter's value paths.
//!
//! Hand-written (a small recursive-descent parser) rather than taken from a crate: the parser
//! must bound nesting depth and input length, report the position of the first error, accept
//! the quirks real clients send (keywords in any case), and never panic on hostile input; the
//! parsers on crates.io do not promise all of that.

use crate::error::{ScimError, ScimType};

/// Longest filter accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 4096;
/// Deepest nesting of parentheses, `not` and value-path brackets accepted.
pub const MAX_FILTER_DEPTH: usize = 16;

/// An attribute path: `[urn ":"] attr ["." sub]`, names as written (matching is
/// case-insensitive and happens against a schema, not here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN when the path was qualified, e.g.
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`.
    pub urn: Option<String>,
    /// The attribute name, e.g. `emails`.
    pub attr: String,
    /// The sub-attribute name, e.g. `value` in `emails.value`.
    pub sub: Option<String>,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `co`
    Co,
    /// `sw`
    Sw,
    /// `ew`
    Ew,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `lt`
    Lt,
    /// `le`
    Le,
}

/// A literal on the right of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A JSON string (escapes decoded).
    String(String),
    /// A JSON number.
    Number(serde_json::Number),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attr pr`
    Present(AttrPath),
    /// `attr op value`
    Compare(AttrPath, CompareOp, Literal),
    /// `a and b`
    And(Box<Filter>, Box<Filter>),
    /// `a or b`
    Or(Box<Filter>, Box<Filter>),
    /// `not (a)`
    Not(Box<Filter>),
    /// `attr[inner]`: `inner` names sub-attributes of `attr` (its paths have no URN and no
    /// `sub`; e.g. `emails[type eq "work"]` has inner path `type`).
    ValuePath(AttrPath, Box<Filter>),
}

/// A PATCH operation's `path`: `attrPath`, or `valuePath ["." subAttr]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute (with `sub` set for `name.givenName`; never both `sub` and `filter`'s
    /// trailing sub-attribute).
    pub attr: AttrPath,
    /// The value filter of `members[value eq "2819c223"]`.
    pub filter: Option<Filter>,
    /// The sub-attribute after a value filter: `value` in `emails[type eq "work"].value`.
    pub sub_after_filter: Option<String>,
}

/// Parses a filter (RFC 7644 §3.4.2.2); errors are `invalidFilter` naming the position of the
/// problem.
///
/// Positions in error details are 0-based byte offsets into `input`. Keywords (`and`, `or`,
/// `not`, `pr`, the comparison operators, `true`, `false`, `null`) are accepted in any case;
/// tokens are separated by any run of ASCII whitespace, and the filter may be surrounded by
/// whitespace. `not` binds tightest and must be followed by a parenthesised filter (`not (…)`
/// or `not(…)`); then `and`; then `or`; both are left-associative. A word is a keyword only
/// where a keyword can stand, so `not eq 1` compares an attribute named `not`.
///
/// Limits: a filter longer than [`MAX_FILTER_LEN`] bytes is refused, and so is one that nests
/// deeper than [`MAX_FILTER_DEPTH`] levels, where each `( … )`, each `not ( … )` (the `not`
/// and its parentheses together) and each value path's `[ … ]` is one level: 16 nested
/// parentheses are accepted, 17 are not.
pub fn parse_filter(input: &str) -> Result<Filter, ScimError> {
    let mut parser = Parser::new(input, ScimType::InvalidFilter);
    if input.len() > MAX_FILTER_LEN {
        return Err(parser.error(format!("filter is longer than {MAX_FILTER_LEN} bytes")));
    }
    parser.skip_ws();
    if parser.at_end() {
        return Err(parser.error("empty filter"));
    }
    let filter = parser.parse_or(0, Scope::Top)?;
    parser.skip_ws();
    match parser.peek() {
        None => Ok(filter),
        Some(b')') => Err(parser.error_at("unmatched ')'", parser.pos)),
        Some(b']') => Err(parser.error_at("unmatched ']'", parser.pos)),
        Some(_) => {
            Err(parser.error_at("expected 'and', 'or' or the end of the filter", parser.pos))
        }
    }
}

/// Parses a PATCH path (RFC 7644 §3.5.2): `attrPath`, or `valuePath ["." subAttr]`, e.g.
/// `name.givenName`, `members[value eq "2819c223"]`, `emails[type eq "work"].value` or
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
///
/// Errors are `invalidPath` (including malformed filters inside the brackets), with the same
/// 0-based byte positions, length limit and depth limit as [`parse_filter`] (the brackets are
/// the first level). Surrounding whitespace is ignored.
pub fn parse_patch_path(input: &str) -> Result<PatchPath, ScimError> {
    let mut parser = Parser::new(input, ScimType::InvalidPath);
    if input.len() > MAX_FILTER_LEN {
        return Err(parser.error(format!("path is longer than {MAX_FILTER_LEN} bytes")));
    }
    parser.skip_ws();
    if parser.at_end() {
        return Err(parser.error("empty path"));
    }
    let attr = parser.parse_attr_path(Scope::Top)?;
    let mut filter = None;
    let mut sub_after_filter = None;
    if parser.peek() == Some(b'[') {
        filter = Some(parser.parse_value_filter(&attr, 0)?);
        if parser.peek() == Some(b'.') {
            parser.pos += 1;
            sub_after_filter = Some(parser.parse_name()?);
        }
    }
    parser.skip_ws();
    if !parser.at_end() {
        return Err(parser.error_at("expected the end of the path", parser.pos));
    }
    Ok(PatchPath {
        attr,
        filter,
        sub_after_filter,
    })
}

/// Where an expression sits: at the top level, or inside a value path's brackets (where
/// paths are plain sub-attribute names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Top,
    ValueFilter,
}

/// A recursive-descent parser over the bytes of a `&str`. `pos` only ever advances over ASCII
/// bytes or whole characters, so it always sits on a character boundary; slices are taken
/// with `get` regardless, so a mistake would be an error rather than a panic.
///
/// Recursion happens only when entering a nesting level (`(`, `not (`, `[`), and
/// [`Parser::enter`] refuses a level beyond [`MAX_FILTER_DEPTH`] before recursing, so the
/// stack stays bounded whatever the input. Chains of `and` / `or` are parsed in loops.
#[derive(Debug)]
struct Parser<'a> {
    input: &'a str,
    bytes: &'a [u8],
    pos: usize,
    kind: ScimType,
}

/// `nameChar` of RFC 7644's ABNF.
fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Characters of a schema URN (RFC 8141: unreserved, sub-delims other than parentheses,
/// `%`, `:`, `@`, `/`).
fn is_urn_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b':'
                | b'%'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b'@'
                | b'/'
        )
}

fn compare_op(word: &str) -> Option<CompareOp> {
    let op = match word.to_ascii_lowercase().as_str() {
        "eq" => CompareOp::Eq,
        "ne" => CompareOp::Ne,
        "co" => CompareOp::Co,
        "sw" => CompareOp::Sw,
        "ew" => CompareOp::Ew,
        "gt" => CompareOp::Gt,
        "ge" => CompareOp::Ge,
        "lt" => CompareOp::Lt,
        "le" => CompareOp::Le,
        _ => return None,
    };
    Some(op)
}

impl<'a> Parser<'a> {
    fn new(input: &'a str, kind: ScimType) -> Self {
        Self {
            input,
            bytes: input.as_bytes(),
            pos: 0,
            kind,
        }
    }

    fn error(&self, detail: impl Into<String>) -> ScimError {
        ScimError::typed(self.kind, detail)
    }

    fn error_at(&self, what: &str, pos: usize) -> ScimError {
        self.error(format!("{what} at position {pos}"))
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// Skips ASCII whitespace; whether there was any.
    fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// The position of the first non-whitespace byte at or after `pos`.
    fn ws_end(&self, mut pos: usize) -> usize {
        while self.bytes.get(pos).is_some_and(|b| b.is_ascii_whitespace()) {
            pos += 1;
        }
        pos
    }

    /// The run of `nameChar`s starting at `pos` (empty if there is none).
    fn word_at(&self, pos: usize) -> &'a str {
        let mut end = pos;
        while self.bytes.get(end).copied().is_some_and(is_name_char) {
            end += 1;
        }
        self.input.get(pos..end).unwrap_or("")
    }

    /// Whether the keyword `keyword` (any case) starts at `pos` as a whole word followed by
    /// whitespace, `(` or the end of the input.
    fn keyword_at(&self, pos: usize, keyword: &str) -> bool {
        self.word_at(pos).eq_ignore_ascii_case(keyword)
            && self
                .bytes
                .get(pos + keyword.len())
                .is_none_or(|&b| b.is_ascii_whitespace() || b == b'(')
    }

    /// Refuses to open a nesting level beyond [`MAX_FILTER_DEPTH`]; `depth` is the number of
    /// levels already open.
    fn enter(&self, depth: usize, pos: usize) -> Result<(), ScimError> {
        if depth >= MAX_FILTER_DEPTH {
            return Err(self.error_at(
                &format!("filter nests deeper than {MAX_FILTER_DEPTH} levels"),
                pos,
            ));
        }
        Ok(())
    }

    /// After the expression inside a group opened at `open`: the closing `close`.
    fn expect_close(&mut self, close: u8, open: usize) -> Result<(), ScimError> {
        self.skip_ws();
        match self.peek() {
            Some(b) if b == close => {
                self.pos += 1;
                Ok(())
            }
            None => {
                let (opener, closer) = if close == b')' {
                    ('(', ')')
                } else {
                    ('[', ']')
                };
                Err(self.error(format!(
                    "missing '{closer}' for the '{opener}' at position {open}"
                )))
            }
            Some(_) => Err(self.error_at(
                &format!("expected 'and', 'or' or '{}'", char::from(close)),
                self.pos,
            )),
        }
    }

    /// `expr *("or" expr)` where `expr` is an `and` chain; left-associative.
    fn parse_or(&mut self, depth: usize, scope: Scope) -> Result<Filter, ScimError> {
        let mut left = self.parse_and(depth, scope)?;
        loop {
            let keyword = self.ws_end(self.pos);
            if keyword == self.pos || !self.keyword_at(keyword, "or") {
                return Ok(left);
            }
            self.pos = keyword + 2;
            let right = self.parse_and(depth, scope)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
    }

    /// `unary *("and" unary)`; left-associative.
    fn parse_and(&mut self, depth: usize, scope: Scope) -> Result<Filter, ScimError> {
        let mut left = self.parse_unary(depth, scope)?;
        loop {
            let keyword = self.ws_end(self.pos);
            if keyword == self.pos || !self.keyword_at(keyword, "and") {
                return Ok(left);
            }
            self.pos = keyword + 3;
            let right = self.parse_unary(depth, scope)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
    }

    /// `"(" filter ")"`, `"not" "(" filter ")"`, an attribute expression or a value path.
    fn parse_unary(&mut self, depth: usize, scope: Scope) -> Result<Filter, ScimError> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            None => Err(self.error_at("unexpected end of filter", start)),
            Some(b'(') => {
                self.enter(depth, start)?;
                self.pos += 1;
                let inner = self.parse_or(depth + 1, scope)?;
                self.expect_close(b')', start)?;
                Ok(inner)
            }
            Some(b) if b.is_ascii_alphabetic() || b == b'$' => {
                if self.keyword_at(start, "not") {
                    let open = self.ws_end(start + 3);
                    if self.bytes.get(open) == Some(&b'(') {
                        self.enter(depth, start)?;
                        self.pos = open + 1;
                        let inner = self.parse_or(depth + 1, scope)?;
                        self.expect_close(b')', open)?;
                        return Ok(Filter::Not(Box::new(inner)));
                    }
                }
                self.parse_attr_expr(depth, scope)
            }
            Some(_) => Err(self.error_at("expected an attribute path, '(' or 'not'", start)),
        }
    }

    /// `attrPath "pr"`, `attrPath compareOp compValue` or `attrPath "[" valFilter "]"`.
    fn parse_attr_expr(&mut self, depth: usize, scope: Scope) -> Result<Filter, ScimError> {
        let path = self.parse_attr_path(scope)?;
        if self.peek() == Some(b'[') {
            if scope == Scope::ValueFilter {
                return Err(self.error_at("value paths cannot nest", self.pos));
            }
            let inner = self.parse_value_filter(&path, depth)?;
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        let path_end = self.pos;
        let had_ws = self.skip_ws();
        let op_pos = self.pos;
        let word = if had_ws { self.word_at(op_pos) } else { "" };
        if word.eq_ignore_ascii_case("pr") {
            self.pos += 2;
            return Ok(Filter::Present(path));
        }
        let Some(op) = compare_op(word) else {
            let bare_not =
                path.urn.is_none() && path.sub.is_none() && path.attr.eq_ignore_ascii_case("not");
            return Err(if bare_not {
                self.error_at("expected '(' after 'not'", path_end)
            } else {
                self.error_at("expected a comparison operator", op_pos)
            });
        };
        self.pos += 2;
        let value_follows = self
            .peek()
            .is_some_and(|b| b == b'"' || b == b'-' || b.is_ascii_alphanumeric());
        if !self.skip_ws() && value_follows {
            return Err(self.error_at(&format!("expected whitespace after '{word}'"), self.pos));
        }
        let value = self.parse_value()?;
        Ok(Filter::Compare(path, op, value))
    }

    /// `"[" valFilter "]"` after `path`; `depth` is the number of levels open outside.
    fn parse_value_filter(&mut self, path: &AttrPath, depth: usize) -> Result<Filter, ScimError> {
        let open = self.pos;
        if path.sub.is_some() {
            return Err(self.error_at("a value filter cannot follow a sub-attribute", open));
        }
        self.enter(depth, open)?;
        self.pos += 1;
        let inner = self.parse_or(depth + 1, Scope::ValueFilter)?;
        self.expect_close(b']', open)?;
        Ok(inner)
    }

    /// `[URN ":"] ATTRNAME ["." subAttr]`. Inside a value filter, only a plain name.
    fn parse_attr_path(&mut self, scope: Scope) -> Result<AttrPath, ScimError> {
        let start = self.pos;
        let is_urn = self
            .bytes
            .get(start..start + 4)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"urn:"));
        if !is_urn {
            let attr = self.parse_name()?;
            let mut sub = None;
            if self.peek() == Some(b'.') {
                if scope == Scope::ValueFilter {
                    return Err(self.error_at(
                        "paths inside a value filter cannot have a sub-attribute",
                        self.pos,
                    ));
                }
                self.pos += 1;
                sub = Some(self.parse_name()?);
            }
            return Ok(AttrPath {
                urn: None,
                attr,
                sub,
            });
        }
        if scope == Scope::ValueFilter {
            return Err(self.error_at(
                "paths inside a value filter cannot have a schema URN",
                start,
            ));
        }
        let mut end = start;
        while self.bytes.get(end).copied().is_some_and(is_urn_char) {
            end += 1;
        }
        let run = self.input.get(start..end).unwrap_or("");
        // `run` starts with "urn:", so there is a colon; the attribute follows the last one.
        let colon = run.rfind(':').unwrap_or(0);
        let urn = run.get(..colon).unwrap_or("");
        let segments: Vec<&str> = urn.split(':').collect();
        if segments.len() < 3 || segments.iter().any(|segment| segment.is_empty()) {
            return Err(self.error_at("invalid schema URN", start));
        }
        self.pos = start + colon + 1;
        let attr = self.parse_name()?;
        let mut sub = None;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            sub = Some(self.parse_name()?);
        }
        if self.pos != end {
            return Err(self.error_at("invalid attribute path", self.pos));
        }
        Ok(AttrPath {
            urn: Some(urn.to_owned()),
            attr,
            sub,
        })
    }

    /// `ATTRNAME = ALPHA *(nameChar)`, or `$ref`.
    fn parse_name(&mut self) -> Result<String, ScimError> {
        let start = self.pos;
        let len = match self.peek() {
            Some(b) if b.is_ascii_alphabetic() => self.word_at(start).len(),
            Some(b'$') => {
                let is_ref = self
                    .bytes
                    .get(start + 1..start + 4)
                    .is_some_and(|name| name.eq_ignore_ascii_case(b"ref"))
                    && !self.bytes.get(start + 4).copied().is_some_and(is_name_char);
                if is_ref { 4 } else { 0 }
            }
            _ => 0,
        };
        match self.input.get(start..start + len) {
            Some(name) if !name.is_empty() => {
                self.pos += len;
                Ok(name.to_owned())
            }
            _ => Err(self.error_at("expected an attribute name", start)),
        }
    }

    /// `compValue = false / null / true / number / string`.
    fn parse_value(&mut self) -> Result<Literal, ScimError> {
        let start = self.pos;
        match self.peek() {
            Some(b'"') => self.parse_string().map(Literal::String),
            Some(b) if b == b'-' || b.is_ascii_digit() => self.parse_number(),
            Some(b) if b.is_ascii_alphabetic() => {
                let word = self.word_at(start);
                let value = if word.eq_ignore_ascii_case("true") {
                    Literal::Bool(true)
                } else if word.eq_ignore_ascii_case("false") {
                    Literal::Bool(false)
                } else if word.eq_ignore_ascii_case("null") {
                    Literal::Null
                } else {
                    return Err(self.error_at(
                        "expected a value (a string, number, true, false or null)",
                        start,
                    ));
                };
                self.pos += word.len();
                Ok(value)
            }
            _ => Err(self.error_at(
                "expected a value (a string, number, true, false or null)",
                start,
            )),
        }
    }

    /// A JSON number; the text is checked and converted by `serde_json`.
    fn parse_number(&mut self) -> Result<Literal, ScimError> {
        let start = self.pos;
        let mut end = start;
        while self
            .bytes
            .get(end)
            .is_some_and(|&b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            end += 1;
        }
        let number = self
            .input
            .get(start..end)
            .and_then(|text| serde_json::from_str::<serde_json::Number>(text).ok())
            .ok_or_else(|| self.error_at("invalid number", start))?;
        self.pos = end;
        Ok(Literal::Number(number))
    }

    /// A JSON string starting at the `"` under `pos`, escapes decoded.
    fn parse_string(&mut self) -> Result<String, ScimError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let c = self
                .input
                .get(self.pos..)
                .and_then(|rest| rest.chars().next());
            match c {
                None => return Err(self.error_at("unterminated string starting", start)),
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => out.push(self.parse_escape()?),
                Some(c) if u32::from(c) < 0x20 => {
                    return Err(self.error_at("unescaped control character in string", self.pos));
                }
                Some(c) => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    /// The escape sequence starting at the `\` under `pos`.
    fn parse_escape(&mut self) -> Result<char, ScimError> {
        let start = self.pos;
        let c = match self.bytes.get(start + 1) {
            None => return Err(self.error_at("unterminated escape sequence", start)),
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let high = self.hex4(start + 2, start)?;
                self.pos = start + 6;
                let code = if (0xD800..0xDC00).contains(&high) {
                    let low = match self.bytes.get(start + 6..start + 8) {
                        Some(b"\\u") => self.hex4(start + 8, start + 6)?,
                        _ => 0,
                    };
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err(self.error_at("unpaired surrogate in \\u escape", start));
                    }
                    self.pos = start + 12;
                    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    high
                };
                return char::from_u32(code)
                    .ok_or_else(|| self.error_at("unpaired surrogate in \\u escape", start));
            }
            Some(_) => return Err(self.error_at("invalid escape sequence", start)),
        };
        self.pos = start + 2;
        Ok(c)
    }

    /// Four hex digits at `pos`, for the `\u` escape at `escape`.
    fn hex4(&self, pos: usize, escape: usize) -> Result<u32, ScimError> {
        let digits = self
            .bytes
            .get(pos..pos + 4)
            .ok_or_else(|| self.error_at("invalid \\u escape", escape))?;
        digits.iter().try_fold(0u32, |acc, &b| {
            char::from(b)
                .to_digit(16)
                .map(|digit| acc * 16 + digit)
                .ok_or_else(|| self.error_at("invalid \\u escape", escape))
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn path(attr: &str) -> AttrPath {
        AttrPath {
            urn: None,
            attr: attr.to_owned(),
            sub: None,
        }
    }

    fn sub(attr: &str, sub: &str) -> AttrPath {
        AttrPath {
            sub: Some(sub.to_owned()),
            ..path(attr)
        }
    }

    fn urn(urn: &str, attr: &str, sub: Option<&str>) -> AttrPath {
        AttrPath {
            urn: Some(urn.to_owned()),
            attr: attr.to_owned(),
            sub: sub.map(str::to_owned),
        }
    }

    fn s(text: &str) -> Literal {
        Literal::String(text.to_owned())
    }

    fn num(text: &str) -> Literal {
        Literal::Number(serde_json::from_str(text).unwrap())
    }

    fn cmp(path: AttrPath, op: CompareOp, value: Literal) -> Filter {
        Filter::Compare(path, op, value)
    }

    fn eq(attr: &str, value: Literal) -> Filter {
        cmp(path(attr), CompareOp::Eq, value)
    }

    fn pr(attr: &str) -> Filter {
        Filter::Present(path(attr))
    }

    fn and(a: Filter, b: Filter) -> Filter {
        Filter::And(Box::new(a), Box::new(b))
    }

    fn or(a: Filter, b: Filter) -> Filter {
        Filter::Or(Box::new(a), Box::new(b))
    }

    fn not(a: Filter) -> Filter {
        Filter::Not(Box::new(a))
    }

    fn vp(path: AttrPath, inner: Filter) -> Filter {
        Filter::ValuePath(path, Box::new(inner))
    }

    /// The `invalidFilter` detail for `input`, which must not parse.
    fn filter_error(input: &str) -> String {
        let error = parse_filter(input).unwrap_err();
        assert_eq!(error.scim_type, Some(ScimType::InvalidFilter), "{input}");
        assert_eq!(error.status, 400);
        error.detail
    }

    /// The `invalidPath` detail for `input`, which must not parse.
    fn path_error(input: &str) -> String {
        let error = parse_patch_path(input).unwrap_err();
        assert_eq!(error.scim_type, Some(ScimType::InvalidPath), "{input}");
        error.detail
    }

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

    #[test]
    fn every_operator() {
        let ops = [
            ("eq", CompareOp::Eq),
            ("ne", CompareOp::Ne),
            ("co", CompareOp::Co),
            ("sw", CompareOp::Sw),
            ("ew", CompareOp::Ew),
            ("gt", CompareOp::Gt),
            ("ge", CompareOp::Ge),
            ("lt", CompareOp::Lt),
            ("le", CompareOp::Le),
        ];
        for (text, op) in ops {
            for spelled in [text.to_owned(), text.to_ascii_uppercase()] {
                let filter = parse_filter(&format!("userName {spelled} \"bjensen\"")).unwrap();
                assert_eq!(filter, cmp(path("userName"), op, s("bjensen")));
            }
        }
        assert_eq!(parse_filter("title pr").unwrap(), pr("title"));
        assert_eq!(parse_filter("title PR").unwrap(), pr("title"));
        assert_eq!(
            parse_filter("name.givenName pr").unwrap(),
            Filter::Present(sub("name", "givenName"))
        );
    }

    #[test]
    fn literals() {
        assert_eq!(
            parse_filter("a eq true").unwrap(),
            eq("a", Literal::Bool(true))
        );
        assert_eq!(
            parse_filter("a eq FALSE").unwrap(),
            eq("a", Literal::Bool(false))
        );
        assert_eq!(parse_filter("a eq Null").unwrap(), eq("a", Literal::Null));
        assert_eq!(parse_filter("a eq 42").unwrap(), eq("a", num("42")));
        assert_eq!(
            parse_filter("a gt -1.5").unwrap(),
            cmp(path("a"), CompareOp::Gt, num("-1.5"))
        );
        assert_eq!(parse_filter("a eq 1e3").unwrap(), eq("a", num("1000.0")));
        assert_eq!(parse_filter("a eq 0").unwrap(), eq("a", num("0")));
        assert_eq!(parse_filter("a eq 2.5E-2").unwrap(), eq("a", num("0.025")));
        for bad in ["01", "1.", ".5", "1e", "--1", "1e400", "1-2", "+1"] {
            let detail = filter_error(&format!("a eq {bad}"));
            assert!(
                detail == "invalid number at position 5" || detail.starts_with("expected a value"),
                "{bad}: {detail}"
            );
        }
        assert_eq!(
            filter_error("a eq yes"),
            "expected a value (a string, number, true, false or null) at position 5"
        );
        assert_eq!(filter_error("a eq truex"), filter_error("a eq yes"));
    }

    #[test]
    fn string_escapes() {
        let cases = [
            (r#""plain""#, "plain"),
            (r#""""#, ""),
            (r#""say \"hi\"""#, "say \"hi\""),
            (r#""back\\slash""#, "back\\slash"),
            (r#""a\/b""#, "a/b"),
            (r#""\b\f\n\r\t""#, "\u{8}\u{c}\n\r\t"),
            (r#""\u00e9\u00C9""#, "éÉ"),
            (r#""\ud83d\ude00""#, "😀"),
            (r#""O'Malley""#, "O'Malley"),
            ("\"ünï😀cödé\"", "ünï😀cödé"),
            (r#""with ) and ] and and or""#, "with ) and ] and and or"),
        ];
        for (text, expected) in cases {
            assert_eq!(
                parse_filter(&format!("a eq {text}")).unwrap(),
                eq("a", s(expected)),
                "{text}"
            );
        }
        assert_eq!(
            filter_error(r#"a eq "x\q""#),
            "invalid escape sequence at position 7"
        );
        assert_eq!(
            filter_error(r#"a eq "\u12""#),
            "invalid \\u escape at position 6"
        );
        assert_eq!(
            filter_error(r#"a eq "\u12g4""#),
            "invalid \\u escape at position 6"
        );
        assert_eq!(
            filter_error(r#"a eq "\ud83d""#),
            "unpaired surrogate in \\u escape at position 6"
        );
        assert_eq!(
            filter_error(r#"a eq "\ud83dx""#),
            "unpaired surrogate in \\u escape at position 6"
        );
        assert_eq!(
            filter_error(r#"a eq "\ude00""#),
            "unpaired surrogate in \\u escape at position 6"
        );
        assert_eq!(
            filter_error(r#"a eq "\ud83d\u0041""#),
            "unpaired surrogate in \\u escape at position 6"
        );
        assert_eq!(
            filter_error("a eq \"tab\there\""),
            "unescaped control character in string at position 9"
        );
        assert_eq!(
            filter_error(r#"a eq "abc"#),
            "unterminated string starting at position 5"
        );
        assert_eq!(
            filter_error(r#"a eq "abc\"#),
            "unterminated escape sequence at position 9"
        );
        assert_eq!(
            filter_error(r#"a eq "abc\""#),
            "unterminated string starting at position 5"
        );
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(
            parse_filter("a eq 1 or b eq 2 and c eq 3").unwrap(),
            or(eq("a", num("1")), and(eq("b", num("2")), eq("c", num("3"))))
        );
        assert_eq!(
            parse_filter("a eq 1 and b eq 2 or c eq 3").unwrap(),
            or(and(eq("a", num("1")), eq("b", num("2"))), eq("c", num("3")))
        );
        assert_eq!(
            parse_filter("a pr and b pr and c pr").unwrap(),
            and(and(pr("a"), pr("b")), pr("c"))
        );
        assert_eq!(
            parse_filter("a pr or b pr or c pr").unwrap(),
            or(or(pr("a"), pr("b")), pr("c"))
        );
        assert_eq!(
            parse_filter("(a eq 1 or b eq 2) and c eq 3").unwrap(),
            and(or(eq("a", num("1")), eq("b", num("2"))), eq("c", num("3")))
        );
        assert_eq!(
            parse_filter("a pr and (b pr and c pr)").unwrap(),
            and(pr("a"), and(pr("b"), pr("c")))
        );
        assert_eq!(
            parse_filter("not (a pr) and b pr").unwrap(),
            and(not(pr("a")), pr("b"))
        );
        assert_eq!(
            parse_filter("a pr or not (b pr or c pr) and d pr").unwrap(),
            or(pr("a"), and(not(or(pr("b"), pr("c"))), pr("d")))
        );
    }

    #[test]
    fn not_grouping_case_and_whitespace() {
        assert_eq!(parse_filter("not (a pr)").unwrap(), not(pr("a")));
        assert_eq!(parse_filter("NOT(a pr)").unwrap(), not(pr("a")));
        assert_eq!(parse_filter("Not (not (a pr))").unwrap(), not(not(pr("a"))));
        assert_eq!(parse_filter("((a pr))").unwrap(), pr("a"));
        assert_eq!(parse_filter("( a pr )").unwrap(), pr("a"));
        assert_eq!(
            parse_filter("a pr AND b pr Or c pr").unwrap(),
            or(and(pr("a"), pr("b")), pr("c"))
        );
        assert_eq!(
            parse_filter(" \t a  eq\n\"x\"\r\nand\tb pr  ").unwrap(),
            and(eq("a", s("x")), pr("b"))
        );
        assert_eq!(
            parse_filter("(a pr) and(b pr)").unwrap(),
            and(pr("a"), pr("b"))
        );
        // Keywords are only keywords where one is expected: these are attribute names.
        assert_eq!(parse_filter("not eq 1").unwrap(), eq("not", num("1")));
        assert_eq!(
            parse_filter("and pr or or pr").unwrap(),
            or(pr("and"), pr("or"))
        );
        assert_eq!(
            parse_filter("not.x pr").unwrap(),
            Filter::Present(sub("not", "x"))
        );
        assert_eq!(
            filter_error("not a pr"),
            "expected '(' after 'not' at position 3"
        );
        assert_eq!(
            filter_error("not"),
            "expected '(' after 'not' at position 3"
        );
        assert_eq!(
            filter_error("a pr and not"),
            "expected '(' after 'not' at position 12"
        );
    }

    #[test]
    fn rfc7644_examples() {
        let last_modified = sub("meta", "lastModified");
        let date = || s("2011-05-13T04:42:34Z");
        let emails_or = || {
            or(
                cmp(path("emails"), CompareOp::Co, s("example.com")),
                cmp(sub("emails", "value"), CompareOp::Co, s("example.org")),
            )
        };
        let work_at_example = || {
            vp(
                path("emails"),
                and(
                    eq("type", s("work")),
                    cmp(path("value"), CompareOp::Co, s("@example.com")),
                ),
            )
        };
        let cases = [
            ("userName eq \"bjensen\"", eq("userName", s("bjensen"))),
            (
                "name.familyName co \"O'Malley\"",
                cmp(sub("name", "familyName"), CompareOp::Co, s("O'Malley")),
            ),
            (
                "userName sw \"J\"",
                cmp(path("userName"), CompareOp::Sw, s("J")),
            ),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"",
                cmp(urn(CORE_USER, "userName", None), CompareOp::Sw, s("J")),
            ),
            ("title pr", pr("title")),
            (
                "meta.lastModified gt \"2011-05-13T04:42:34Z\"",
                cmp(last_modified.clone(), CompareOp::Gt, date()),
            ),
            (
                "meta.lastModified ge \"2011-05-13T04:42:34Z\"",
                cmp(last_modified.clone(), CompareOp::Ge, date()),
            ),
            (
                "meta.lastModified lt \"2011-05-13T04:42:34Z\"",
                cmp(last_modified.clone(), CompareOp::Lt, date()),
            ),
            (
                "meta.lastModified le \"2011-05-13T04:42:34Z\"",
                cmp(last_modified.clone(), CompareOp::Le, date()),
            ),
            (
                "title pr and userType eq \"Employee\"",
                and(pr("title"), eq("userType", s("Employee"))),
            ),
            (
                "title pr or userType eq \"Intern\"",
                or(pr("title"), eq("userType", s("Intern"))),
            ),
            (
                "schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"",
                eq("schemas", s(ENTERPRISE)),
            ),
            (
                "userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")",
                and(eq("userType", s("Employee")), emails_or()),
            ),
            (
                "userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co \"example.org\")",
                and(
                    cmp(path("userType"), CompareOp::Ne, s("Employee")),
                    not(emails_or()),
                ),
            ),
            (
                "userType eq \"Employee\" and (emails.type eq \"work\")",
                and(
                    eq("userType", s("Employee")),
                    cmp(sub("emails", "type"), CompareOp::Eq, s("work")),
                ),
            ),
            (
                "userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]",
                and(eq("userType", s("Employee")), work_at_example()),
            ),
            (
                "emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and value co \"@foo.com\"]",
                or(
                    work_at_example(),
                    vp(
                        path("ims"),
                        and(
                            eq("type", s("xmpp")),
                            cmp(path("value"), CompareOp::Co, s("@foo.com")),
                        ),
                    ),
                ),
            ),
            // §3.4.3's search request.
            (
                "displayName sw \"smith\"",
                cmp(path("displayName"), CompareOp::Sw, s("smith")),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_filter(text).unwrap(), expected, "{text}");
        }
    }

    #[test]
    fn value_paths() {
        assert_eq!(
            parse_filter("emails[type eq \"work\" and value co \"@acme.com\"]").unwrap(),
            vp(
                path("emails"),
                and(
                    eq("type", s("work")),
                    cmp(path("value"), CompareOp::Co, s("@acme.com"))
                )
            )
        );
        assert_eq!(
            parse_filter("emails[not (type eq \"work\") or (primary eq true)] and a pr").unwrap(),
            and(
                vp(
                    path("emails"),
                    or(
                        not(eq("type", s("work"))),
                        eq("primary", Literal::Bool(true))
                    )
                ),
                pr("a")
            )
        );
        assert_eq!(
            parse_filter("members[$ref pr]").unwrap(),
            vp(path("members"), pr("$ref"))
        );
        assert_eq!(
            parse_filter(&format!("{ENTERPRISE}:manager[value eq \"26118915\"]")).unwrap(),
            vp(urn(ENTERPRISE, "manager", None), eq("value", s("26118915")))
        );
        assert_eq!(
            filter_error("emails [type pr]"),
            "expected a comparison operator at position 7"
        );
        assert_eq!(
            filter_error("a[b[c pr]]"),
            "value paths cannot nest at position 3"
        );
        assert_eq!(
            filter_error("a[b.c pr]"),
            "paths inside a value filter cannot have a sub-attribute at position 3"
        );
        assert_eq!(
            filter_error(&format!("emails[{CORE_USER}:type pr]")),
            "paths inside a value filter cannot have a schema URN at position 7"
        );
        assert_eq!(
            filter_error("name.givenName[value pr]"),
            "a value filter cannot follow a sub-attribute at position 14"
        );
        assert_eq!(
            filter_error("emails[type pr"),
            "missing ']' for the '[' at position 6"
        );
        assert_eq!(
            filter_error("emails[type pr)"),
            "expected 'and', 'or' or ']' at position 14"
        );
        assert_eq!(
            filter_error("emails[]"),
            "expected an attribute path, '(' or 'not' at position 7"
        );
        assert_eq!(
            filter_error("emails[type pr].value eq 1"),
            "expected 'and', 'or' or the end of the filter at position 15"
        );
    }

    #[test]
    fn urn_qualified_paths() {
        assert_eq!(
            parse_filter(&format!("{ENTERPRISE}:employeeNumber eq \"701984\"")).unwrap(),
            eq_path(urn(ENTERPRISE, "employeeNumber", None), s("701984"))
        );
        assert_eq!(
            parse_filter(&format!("{CORE_USER}:name.givenName eq \"Barbara\"")).unwrap(),
            eq_path(urn(CORE_USER, "name", Some("givenName")), s("Barbara"))
        );
        assert_eq!(
            parse_filter("URN:IETF:params:scim:schemas:core:2.0:User:userName pr").unwrap(),
            Filter::Present(urn(
                "URN:IETF:params:scim:schemas:core:2.0:User",
                "userName",
                None
            ))
        );
        assert_eq!(
            parse_filter(&format!("({ENTERPRISE}:manager.value pr)")).unwrap(),
            Filter::Present(urn(ENTERPRISE, "manager", Some("value")))
        );
        assert_eq!(filter_error("urn:x pr"), "invalid schema URN at position 0");
        assert_eq!(
            filter_error("urn:a::b:c pr"),
            "invalid schema URN at position 0"
        );
        assert_eq!(
            filter_error("urn:a:b: pr"),
            "expected an attribute name at position 8"
        );
        assert_eq!(
            filter_error("urn:a:b:name.x.y pr"),
            "invalid attribute path at position 14"
        );
        assert_eq!(
            filter_error("urn:a:b:1abc pr"),
            "expected an attribute name at position 8"
        );
    }

    fn eq_path(path: AttrPath, value: Literal) -> Filter {
        cmp(path, CompareOp::Eq, value)
    }

    #[test]
    fn error_positions() {
        assert_eq!(filter_error(""), "empty filter");
        assert_eq!(filter_error("  \t "), "empty filter");
        assert_eq!(
            filter_error("userName xx \"a\""),
            "expected a comparison operator at position 9"
        );
        assert_eq!(
            filter_error("userName"),
            "expected a comparison operator at position 8"
        );
        assert_eq!(
            filter_error("userName eq"),
            "expected a value (a string, number, true, false or null) at position 11"
        );
        assert_eq!(
            filter_error("userName eq\"a\""),
            "expected whitespace after 'eq' at position 11"
        );
        assert_eq!(
            filter_error("userName eq  \"abc"),
            "unterminated string starting at position 13"
        );
        assert_eq!(
            filter_error("a pr b pr"),
            "expected 'and', 'or' or the end of the filter at position 5"
        );
        assert_eq!(
            filter_error("a pr and"),
            "unexpected end of filter at position 8"
        );
        assert_eq!(
            filter_error("a pr andb pr"),
            "expected 'and', 'or' or the end of the filter at position 5"
        );
        assert_eq!(filter_error("a pr)"), "unmatched ')' at position 4");
        assert_eq!(filter_error("a pr]"), "unmatched ']' at position 4");
        assert_eq!(
            filter_error("(a pr"),
            "missing ')' for the '(' at position 0"
        );
        assert_eq!(
            filter_error("not (a pr"),
            "missing ')' for the '(' at position 4"
        );
        assert_eq!(
            filter_error("()"),
            "expected an attribute path, '(' or 'not' at position 1"
        );
        assert_eq!(
            filter_error("1 eq 1"),
            "expected an attribute path, '(' or 'not' at position 0"
        );
        assert_eq!(
            filter_error("$x eq 1"),
            "expected an attribute name at position 0"
        );
        assert_eq!(
            filter_error("a eq \"x\"b"),
            "expected 'and', 'or' or the end of the filter at position 8"
        );
        assert_eq!(
            filter_error("a eq 1x"),
            "expected 'and', 'or' or the end of the filter at position 6"
        );
        assert_eq!(
            filter_error("é eq 1"),
            "expected an attribute path, '(' or 'not' at position 0"
        );
        assert_eq!(
            filter_error("a eq \"é\" é"),
            "expected 'and', 'or' or the end of the filter at position 10"
        );
        assert_eq!(
            filter_error("a.b.c pr"),
            "expected a comparison operator at position 3"
        );
        assert_eq!(
            filter_error("a. pr"),
            "expected an attribute name at position 2"
        );
    }

    #[test]
    fn depth_limit() {
        let nested = |levels: usize| format!("{}a pr{}", "(".repeat(levels), ")".repeat(levels));
        assert_eq!(parse_filter(&nested(MAX_FILTER_DEPTH)).unwrap(), pr("a"));
        assert_eq!(
            filter_error(&nested(MAX_FILTER_DEPTH + 1)),
            "filter nests deeper than 16 levels at position 16"
        );

        let nots = |levels: usize| format!("{}a pr{}", "not (".repeat(levels), ")".repeat(levels));
        let mut expected = pr("a");
        for _ in 0..MAX_FILTER_DEPTH {
            expected = not(expected);
        }
        assert_eq!(parse_filter(&nots(MAX_FILTER_DEPTH)).unwrap(), expected);
        assert_eq!(
            filter_error(&nots(MAX_FILTER_DEPTH + 1)),
            "filter nests deeper than 16 levels at position 80"
        );

        // A value path's brackets are a level too.
        let in_brackets =
            |levels: usize| format!("{}e[(x pr)]{}", "(".repeat(levels), ")".repeat(levels));
        assert!(parse_filter(&in_brackets(MAX_FILTER_DEPTH - 2)).is_ok());
        assert_eq!(
            filter_error(&in_brackets(MAX_FILTER_DEPTH - 1)),
            "filter nests deeper than 16 levels at position 17"
        );

        // Far too deep fails without overflowing the stack, as does very deep nonsense.
        let deep = "(".repeat(MAX_FILTER_LEN);
        assert!(filter_error(&deep).starts_with("filter nests deeper than 16 levels"));
        let deep = "not (".repeat(MAX_FILTER_LEN / 5);
        assert!(filter_error(&deep).starts_with("filter nests deeper than 16 levels"));
        let deep = format!("a[{}", "(".repeat(MAX_FILTER_LEN - 2));
        assert!(path_error(&deep).starts_with("filter nests deeper than 16 levels"));
    }

    #[test]
    fn length_limit() {
        let filler = |len: usize| format!("a eq \"{}\"", "x".repeat(len - 7));
        assert_eq!(filler(MAX_FILTER_LEN).len(), MAX_FILTER_LEN);
        assert!(parse_filter(&filler(MAX_FILTER_LEN)).is_ok());
        assert_eq!(
            filter_error(&filler(MAX_FILTER_LEN + 1)),
            "filter is longer than 4096 bytes"
        );
        let long_path = format!("a{}", "b".repeat(MAX_FILTER_LEN));
        assert_eq!(path_error(&long_path), "path is longer than 4096 bytes");
        assert!(parse_patch_path(&long_path[1..]).is_ok());
    }

    #[test]
    fn patch_paths() {
        let plain = |attr: AttrPath| PatchPath {
            attr,
            filter: None,
            sub_after_filter: None,
        };
        assert_eq!(parse_patch_path("members").unwrap(), plain(path("members")));
        assert_eq!(
            parse_patch_path("name.givenName").unwrap(),
            plain(sub("name", "givenName"))
        );
        assert_eq!(
            parse_patch_path("members[value eq \"2819c223-7f76-453a-919d-413861904646\"]").unwrap(),
            PatchPath {
                attr: path("members"),
                filter: Some(eq("value", s("2819c223-7f76-453a-919d-413861904646"))),
                sub_after_filter: None,
            }
        );
        assert_eq!(
            parse_patch_path("emails[type eq \"work\"].value").unwrap(),
            PatchPath {
                attr: path("emails"),
                filter: Some(eq("type", s("work"))),
                sub_after_filter: Some("value".to_owned()),
            }
        );
        assert_eq!(
            parse_patch_path("members[value eq \"2819c223\"].$ref").unwrap(),
            PatchPath {
                attr: path("members"),
                filter: Some(eq("value", s("2819c223"))),
                sub_after_filter: Some("$ref".to_owned()),
            }
        );
        assert_eq!(
            parse_patch_path(&format!("{ENTERPRISE}:manager.value")).unwrap(),
            plain(urn(ENTERPRISE, "manager", Some("value")))
        );
        assert_eq!(
            parse_patch_path(&format!("{ENTERPRISE}:employeeNumber")).unwrap(),
            plain(urn(ENTERPRISE, "employeeNumber", None))
        );
        assert_eq!(
            parse_patch_path(
                "addresses[type eq \"work\" and not (primary eq false)].streetAddress"
            )
            .unwrap(),
            PatchPath {
                attr: path("addresses"),
                filter: Some(and(
                    eq("type", s("work")),
                    not(eq("primary", Literal::Bool(false)))
                )),
                sub_after_filter: Some("streetAddress".to_owned()),
            }
        );
        assert_eq!(
            parse_patch_path(" members ").unwrap(),
            plain(path("members"))
        );

        assert_eq!(path_error(""), "empty path");
        assert_eq!(
            path_error("members["),
            "unexpected end of filter at position 8"
        );
        assert_eq!(
            path_error("members[value eq]"),
            "expected a value (a string, number, true, false or null) at position 16"
        );
        assert_eq!(
            path_error("emails[type eq \"work\"].value.x"),
            "expected the end of the path at position 28"
        );
        assert_eq!(
            path_error("emails[type eq \"work\"]x"),
            "expected the end of the path at position 22"
        );
        assert_eq!(
            path_error("emails[type eq \"work\"]."),
            "expected an attribute name at position 23"
        );
        assert_eq!(
            path_error("name.givenName[value pr]"),
            "a value filter cannot follow a sub-attribute at position 14"
        );
        assert_eq!(
            path_error("a[b[c pr]]"),
            "value paths cannot nest at position 3"
        );
        assert_eq!(
            path_error("a.b.c"),
            "expected the end of the path at position 3"
        );
        assert_eq!(
            path_error("title pr"),
            "expected the end of the path at position 6"
        );
        assert_eq!(
            path_error("emails[type eq \"work\"] or x pr"),
            "expected the end of the path at position 23"
        );
        assert_eq!(
            path_error("(members)"),
            "expected an attribute name at position 0"
        );
    }

    /// Test-only rendering of a syntax tree back to filter text, with a choice of keyword
    /// case and whitespace, and only the parentheses that precedence requires.
    mod render {
        use super::super::*;

        #[derive(Debug, Clone)]
        pub struct Style {
            pub upper: bool,
            pub ws: String,
        }

        impl Style {
            fn keyword(&self, keyword: &str) -> String {
                if self.upper {
                    keyword.to_ascii_uppercase()
                } else {
                    keyword.to_owned()
                }
            }
        }

        pub fn path(path: &AttrPath) -> String {
            let mut out = String::new();
            if let Some(urn) = &path.urn {
                out.push_str(urn);
                out.push(':');
            }
            out.push_str(&path.attr);
            if let Some(sub) = &path.sub {
                out.push('.');
                out.push_str(sub);
            }
            out
        }

        fn literal(literal: &Literal, style: &Style) -> String {
            match literal {
                Literal::String(text) => serde_json::to_string(text).unwrap(),
                Literal::Number(number) => number.to_string(),
                Literal::Bool(value) => style.keyword(&value.to_string()),
                Literal::Null => style.keyword("null"),
            }
        }

        fn op(op: CompareOp) -> &'static str {
            match op {
                CompareOp::Eq => "eq",
                CompareOp::Ne => "ne",
                CompareOp::Co => "co",
                CompareOp::Sw => "sw",
                CompareOp::Ew => "ew",
                CompareOp::Gt => "gt",
                CompareOp::Ge => "ge",
                CompareOp::Lt => "lt",
                CompareOp::Le => "le",
            }
        }

        fn wrapped(filter: &Filter, style: &Style, wrap: bool) -> String {
            let text = render(filter, style);
            if wrap { format!("({text})") } else { text }
        }

        pub fn render(filter: &Filter, style: &Style) -> String {
            let ws = &style.ws;
            match filter {
                Filter::Present(p) => format!("{}{ws}{}", path(p), style.keyword("pr")),
                Filter::Compare(p, o, value) => format!(
                    "{}{ws}{}{ws}{}",
                    path(p),
                    style.keyword(op(*o)),
                    literal(value, style)
                ),
                Filter::And(a, b) => format!(
                    "{}{ws}{}{ws}{}",
                    wrapped(a, style, matches!(**a, Filter::Or(..))),
                    style.keyword("and"),
                    wrapped(b, style, matches!(**b, Filter::Or(..) | Filter::And(..)))
                ),
                Filter::Or(a, b) => format!(
                    "{}{ws}{}{ws}{}",
                    render(a, style),
                    style.keyword("or"),
                    wrapped(b, style, matches!(**b, Filter::Or(..)))
                ),
                Filter::Not(inner) => {
                    format!("{}{ws}({})", style.keyword("not"), render(inner, style))
                }
                Filter::ValuePath(p, inner) => format!("{}[{}]", path(p), render(inner, style)),
            }
        }

        pub fn patch_path(patch: &PatchPath, style: &Style) -> String {
            let mut out = path(&patch.attr);
            if let Some(filter) = &patch.filter {
                out.push('[');
                out.push_str(&render(filter, style));
                out.push(']');
            }
            if let Some(sub) = &patch.sub_after_filter {
                out.push('.');
                out.push_str(sub);
            }
            out
        }
    }

    #[test]
    fn renderer_output_parses_back() {
        let style = render::Style {
            upper: false,
            ws: " ".to_owned(),
        };
        let text = "userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co \"example.org\")";
        assert_eq!(render::render(&parse_filter(text).unwrap(), &style), text);
    }

    mod props {
        use super::super::*;
        use super::render;
        use proptest::prelude::*;

        fn name() -> impl Strategy<Value = String> {
            prop_oneof![
                6 => "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
                1 => Just("$ref".to_owned()),
                1 => prop::sample::select(vec!["not", "and", "OR", "pr", "eq", "urn", "true", "Not"])
                    .prop_map(str::to_owned),
            ]
        }

        fn schema_urn() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_owned()),
                Just("URN:ietf:params:scim:schemas:core:2.0:Group".to_owned()),
                "urn:[a-z][a-z0-9-]{0,6}(:[A-Za-z0-9.%+=@-]{1,6}){1,4}",
            ]
        }

        /// A top-level attribute path; with `allow_sub` false, never with a sub-attribute.
        fn top_path(allow_sub: bool) -> impl Strategy<Value = AttrPath> {
            let sub = if allow_sub {
                proptest::option::of(name()).boxed()
            } else {
                Just(None).boxed()
            };
            (proptest::option::of(schema_urn()), name(), sub)
                .prop_map(|(urn, attr, sub)| AttrPath { urn, attr, sub })
        }

        /// A path inside a value filter: a plain name.
        fn inner_path() -> impl Strategy<Value = AttrPath> {
            name().prop_map(|attr| AttrPath {
                urn: None,
                attr,
                sub: None,
            })
        }

        fn literal() -> impl Strategy<Value = Literal> {
            prop_oneof![
                any::<String>().prop_map(Literal::String),
                "[ -~]{0,12}".prop_map(Literal::String),
                any::<i64>().prop_map(|n| Literal::Number(n.into())),
                any::<u64>().prop_map(|n| Literal::Number(n.into())),
                // Floats with few significant digits, which any correct parser reads exactly.
                any::<i32>().prop_filter_map("finite", |n| {
                    serde_json::Number::from_f64(f64::from(n) / 8.0).map(Literal::Number)
                }),
                (any::<i16>(), -20i32..20).prop_map(|(m, e)| {
                    Literal::Number(serde_json::from_str(&format!("{m}e{e}")).unwrap())
                }),
                any::<bool>().prop_map(Literal::Bool),
                Just(Literal::Null),
            ]
        }

        fn op() -> impl Strategy<Value = CompareOp> {
            prop::sample::select(vec![
                CompareOp::Eq,
                CompareOp::Ne,
                CompareOp::Co,
                CompareOp::Sw,
                CompareOp::Ew,
                CompareOp::Gt,
                CompareOp::Ge,
                CompareOp::Lt,
                CompareOp::Le,
            ])
        }

        fn attr_exp(path: BoxedStrategy<AttrPath>) -> BoxedStrategy<Filter> {
            prop_oneof![
                path.clone().prop_map(Filter::Present),
                (path, op(), literal()).prop_map(|(p, o, l)| Filter::Compare(p, o, l)),
            ]
            .boxed()
        }

        fn logic(leaf: BoxedStrategy<Filter>) -> BoxedStrategy<Filter> {
            leaf.prop_recursive(4, 24, 2, |inner| {
                prop_oneof![
                    (inner.clone(), inner.clone())
                        .prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
                    (inner.clone(), inner.clone())
                        .prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
                    inner.prop_map(|a| Filter::Not(Box::new(a))),
                ]
            })
            .boxed()
        }

        fn value_filter() -> BoxedStrategy<Filter> {
            logic(attr_exp(inner_path().boxed()))
        }

        fn filter() -> BoxedStrategy<Filter> {
            let leaf = prop_oneof![
                3 => attr_exp(top_path(true).boxed()),
                1 => (top_path(false), value_filter())
                    .prop_map(|(p, inner)| Filter::ValuePath(p, Box::new(inner))),
            ];
            logic(leaf.boxed())
        }

        fn patch_path() -> impl Strategy<Value = PatchPath> {
            prop_oneof![
                top_path(true).prop_map(|attr| PatchPath {
                    attr,
                    filter: None,
                    sub_after_filter: None,
                }),
                (
                    top_path(false),
                    value_filter(),
                    proptest::option::of(name())
                )
                    .prop_map(|(attr, filter, sub_after_filter)| PatchPath {
                        attr,
                        filter: Some(filter),
                        sub_after_filter,
                    }),
            ]
        }

        fn style() -> impl Strategy<Value = render::Style> {
            (
                any::<bool>(),
                prop::sample::select(vec![" ", "  ", "\t", " \r\n "]),
            )
                .prop_map(|(upper, ws)| render::Style {
                    upper,
                    ws: ws.to_owned(),
                })
        }

        /// Text made of the pieces filters are made of, in any order.
        fn filterish() -> impl Strategy<Value = String> {
            let token = prop::sample::select(vec![
                "(",
                ")",
                "[",
                "]",
                "\"",
                "\\",
                "\\u",
                "\\ud83d",
                "\\ude00",
                "\\u00e9",
                "\\n",
                "not",
                "NOT",
                "and",
                "Or",
                "eq",
                "pr",
                "gt",
                " ",
                "  ",
                "\t",
                "a",
                "emails",
                "value",
                ".",
                ":",
                "urn:",
                "urn:a:b:",
                "$ref",
                "$",
                "1",
                "-",
                "1e5",
                "0.5",
                "e",
                "true",
                "NULL",
                "é",
                "😀",
                "\u{0}",
                "\u{7f}",
                "not (",
                "a eq \"x\"",
                "a pr",
                "x[",
            ]);
            prop::collection::vec(token, 0..48).prop_map(|tokens| tokens.concat())
        }

        fn check_never_panics(input: &str) {
            if let Err(error) = parse_filter(input) {
                assert_eq!(error.scim_type, Some(ScimType::InvalidFilter));
            }
            if let Err(error) = parse_patch_path(input) {
                assert_eq!(error.scim_type, Some(ScimType::InvalidPath));
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1024))]

            #[test]
            fn arbitrary_strings_never_panic(input in any::<String>()) {
                check_never_panics(&input);
            }

            #[test]
            fn filterish_strings_never_panic(input in filterish()) {
                check_never_panics(&input);
            }

            #[test]
            fn mangled_filters_never_panic(
                filter in filter(),
                style in style(),
                cut in any::<prop::sample::Index>(),
                insert in filterish(),
            ) {
                let text = render::render(&filter, &style);
                let at = cut.index(text.len() + 1);
                let at = (0..=at).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
                check_never_panics(&text[..at]);
                check_never_panics(&format!("{}{insert}{}", &text[..at], &text[at..]));
            }

            #[test]
            fn rendered_filters_parse_back(
                filter in filter(),
                style in style(),
                lead in "[ \t]{0,2}",
                trail in "[ \t\n]{0,2}",
            ) {
                let text = format!("{lead}{}{trail}", render::render(&filter, &style));
                prop_assert_eq!(parse_filter(&text), Ok(filter), "{}", text);
            }

            #[test]
            fn rendered_patch_paths_parse_back(patch in patch_path(), style in style()) {
                let text = render::patch_path(&patch, &style);
                prop_assert_eq!(parse_patch_path(&text), Ok(patch), "{}", text);
            }
        }
    }
}
