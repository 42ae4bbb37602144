//! Formatter snapshots: every `fixtures/fmt/*.alloy` is formatted and the exact output (what
//! `alloy fmt` prints, trailing newline included) is compared with a snapshot kept beside the
//! fixtures. Tabs are shown as `→` and trailing spaces as `·` (snapshots would lose them), so
//! indentation, alignment and kept comment blanks are visible in reviews.

#[test]
fn format_fixtures() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../fixtures/fmt/snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::glob!("../../fixtures/fmt", "*.alloy", |path| {
            let src = std::fs::read(path).expect("fixture is readable");
            let out = match syntax::format::format_source(&src) {
                Ok(s) => s + "\n",
                Err(d) => panic!("{} does not parse: {d:?}", path.display()),
            };
            insta::assert_snapshot!(visible(&out));
        });
    });
}

fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let kept = body.trim_end_matches(' ');
        out.push_str(&kept.replace('\t', "→"));
        out.extend(std::iter::repeat_n('·', body.len() - kept.len()));
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}
