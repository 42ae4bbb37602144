//! Feeds arbitrary bytes to every exposition parser: none may panic or run past the input, and
//! the text parsers' fast path must read every line as their state machines do (checked by
//! the unit tests' differential proptest; here, by exercising both option sets).

#![no_main]

use libfuzzer_sys::fuzz_target;
use prom::exposition::{Entry, Format, Parser, ParserOptions};
use prom::LabelsBuilder;

fuzz_target!(|data: &[u8]| {
    let mut labels = LabelsBuilder::default();
    for format in [Format::PrometheusText, Format::OpenMetrics, Format::Protobuf] {
        for skip_created_series in [false, true] {
            let options = ParserOptions { skip_created_series, parse_classic_histograms: skip_created_series, ..Default::default() };
            let mut parser = Parser::with_options(format, data, options);
            // Every entry consumes input, so more entries than a few per byte means a loop.
            let mut budget = 4 * data.len() + 16;
            while let Some(entry) = parser.next() {
                budget = budget.checked_sub(1).expect("parser did not stop");
                match entry {
                    Ok(Entry::Series(s)) => {
                        s.labels(&mut labels);
                        if let Some(e) = s.exemplar() {
                            e.labels(&mut labels);
                        }
                    }
                    Ok(Entry::Histogram(h)) => h.labels(&mut labels),
                    Ok(_) => {}
                    Err(e) => {
                        let _ = e.to_string();
                    }
                }
            }
        }
    }
});
