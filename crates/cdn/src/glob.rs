//! CloudFront's resource wildcards: `*` matches any run of characters
//! (including none), `?` exactly one.

/// Whether `text` matches `pattern`. Linear backtracking on the last `*`,
/// so a hostile pattern cannot blow up.
pub fn matches(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn wildcards_behave_like_cloudfront() {
        assert!(matches(
            "https://d.example/songs/*",
            "https://d.example/songs/a.mp3"
        ));
        assert!(matches("https://d.example/*", "https://d.example/"));
        assert!(matches("*", "anything at all"));
        assert!(matches(
            "https://d.example/songs/?.mp3",
            "https://d.example/songs/a.mp3"
        ));
        assert!(!matches(
            "https://d.example/songs/?.mp3",
            "https://d.example/songs/ab.mp3"
        ));
        assert!(!matches(
            "https://d.example/songs/*",
            "https://d.example/thumbnails/a.jpg"
        ));
        assert!(matches(
            "https://d.example/*/a*.mp3",
            "https://d.example/x/y/abc.mp3"
        ));
        assert!(!matches("https://d.example/a", "https://d.example/ab"));
        assert!(!matches("https://d.example/ab", "https://d.example/a"));
        assert!(matches("a*b*c", "aXbYbZc"));
        assert!(!matches("a*b*c", "aXbYbZ"));
    }
}
