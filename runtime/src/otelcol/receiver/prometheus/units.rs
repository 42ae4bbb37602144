//! Prometheus unit words as UCUM units (`seconds` → `s`, `bytes_per_second` → `By/s`): the
//! inverse of the exporter's unit words.

/// A Prometheus unit word in UCUM (`seconds` → `s`, `bytes_per_second` → `By/s`).
pub fn unit_to_ucum(word: &str) -> String {
    let main = |w: &str| -> String {
        match w {
            "days" => "d",
            "hours" => "h",
            "minutes" => "min",
            "seconds" => "s",
            "milliseconds" => "ms",
            "microseconds" => "us",
            "nanoseconds" => "ns",
            "bytes" => "By",
            "kibibytes" => "KiBy",
            "mebibytes" => "MiBy",
            "gibibytes" => "GiBy",
            "tibibytes" => "TiBy",
            "kilobytes" => "KBy",
            "megabytes" => "MBy",
            "gigabytes" => "GBy",
            "terabytes" => "TBy",
            "meters" => "m",
            "volts" => "V",
            "amperes" => "A",
            "joules" => "J",
            "watts" => "W",
            "grams" => "g",
            "celsius" => "Cel",
            "hertz" => "Hz",
            "percent" => "%",
            "ratio" => "1",
            other => other,
        }
        .to_string()
    };
    let per = |w: &str| -> String {
        match w {
            "second" => "s",
            "minute" => "m",
            "hour" => "h",
            "day" => "d",
            "week" => "w",
            "month" => "mo",
            "year" => "y",
            other => other,
        }
        .to_string()
    };
    match word.split_once("_per_") {
        Some((m, p)) => format!("{}/{}", main(m), per(p)),
        None => main(word),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_per_words_become_ucum() {
        assert_eq!(unit_to_ucum("seconds"), "s");
        assert_eq!(unit_to_ucum("bytes_per_second"), "By/s");
        assert_eq!(unit_to_ucum("ratio"), "1");
        assert_eq!(unit_to_ucum("widgets"), "widgets");
    }
}
