//! The server's settings, from `initializationOptions` and `workspace/didChangeConfiguration`
//! (`{"stabilityLevel": "experimental", "communityComponents": true, "configGrouping":
//! "auto"}`, at the top level or under an `alloy` key): the stability level and community
//! components the analysis allows, and how files form configurations.

use analyzer::Stability;
use serde_json::Value;

/// How the files of a directory form configurations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Grouping {
    /// A directory is one configuration, as `alloy run DIR` reads it, unless two of its files
    /// declare the same component: then they are independent configurations (`config.alloy`
    /// beside `config-lb.alloy`), each file alone.
    #[default]
    Auto,
    /// Every directory is one configuration.
    Directory,
    /// Every file is one configuration.
    File,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    pub stability: Stability,
    pub community: bool,
    pub grouping: Grouping,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { stability: Stability::GenerallyAvailable, community: false, grouping: Grouping::Auto }
    }
}

impl Settings {
    /// Applies the keys present in `v` (unknown keys and values are left as they were; the
    /// problems are returned for a message to the user).
    pub fn apply(&mut self, v: &Value) -> Vec<String> {
        let v = v.get("alloy").unwrap_or(v);
        let mut problems = Vec::new();
        if let Some(s) = v.get("stabilityLevel") {
            match s.as_str().and_then(Stability::parse) {
                Some(level) => self.stability = level,
                None => problems.push(format!("stabilityLevel {s}: expected \"experimental\", \"public-preview\" or \"generally-available\"")),
            }
        }
        if let Some(c) = v.get("communityComponents") {
            match c.as_bool() {
                Some(b) => self.community = b,
                None => problems.push(format!("communityComponents {c}: expected true or false")),
            }
        }
        if let Some(g) = v.get("configGrouping") {
            match g.as_str() {
                Some("auto") => self.grouping = Grouping::Auto,
                Some("directory") => self.grouping = Grouping::Directory,
                Some("file") => self.grouping = Grouping::File,
                _ => problems.push(format!("configGrouping {g}: expected \"auto\", \"directory\" or \"file\"")),
            }
        }
        problems
    }

    pub fn options(&self) -> analyzer::Options {
        analyzer::Options { stability: self.stability, community: self.community }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_at_the_top_or_under_alloy_and_bad_values_reported() {
        let mut s = Settings::default();
        assert!(s.apply(&serde_json::json!({"stabilityLevel": "experimental", "configGrouping": "file"})).is_empty());
        assert_eq!((s.stability, s.grouping), (Stability::Experimental, Grouping::File));
        assert!(s.apply(&serde_json::json!({"alloy": {"communityComponents": true, "configGrouping": "directory"}})).is_empty());
        assert_eq!((s.community, s.grouping, s.stability), (true, Grouping::Directory, Stability::Experimental));
        let problems = s.apply(&serde_json::json!({"stabilityLevel": "beta", "configGrouping": 3}));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(s.stability, Stability::Experimental, "a bad value leaves the setting as it was");
    }
}
