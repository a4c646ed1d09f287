//! Tessera's pages and static assets, compiled into the binary so the server needs no files
//! on disk and no build step: HTML templates, CSS and small ES modules.

/// The landing page served at `/`.
pub const INDEX_HTML: &str = include_str!("../assets/index.html");

/// An embedded file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// The file's bytes.
    pub bytes: &'static [u8],
    /// Its media type.
    pub content_type: &'static str,
}

/// Files served under `/assets/`.
const ASSETS: &[(&str, Asset)] = &[(
    "tessera.css",
    Asset {
        bytes: include_bytes!("../assets/tessera.css"),
        content_type: "text/css; charset=utf-8",
    },
)];

/// The asset called `name`, if there is one.
pub fn asset(name: &str) -> Option<Asset> {
    ASSETS
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, asset)| *asset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_links_only_embedded_assets() {
        for part in INDEX_HTML.split("/assets/").skip(1) {
            let name = part.split('"').next().unwrap_or_default();
            assert!(
                asset(name).is_some(),
                "index.html links missing asset {name}"
            );
        }
    }
}
