//! Geometry for the server-rendered SVG charts: no chart library, no
//! script, nothing a log line could inject into.

/// Line colours, in order of use.
pub(crate) const COLOURS: [&str; 8] = [
    "#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#57606a", "#bf3989", "#0a7b83",
];

/// Horizontal position of point `index` of `count` across `width`.
pub(crate) fn x_of(index: usize, count: usize, width: f64) -> f64 {
    if count > 1 {
        index as f64 * width / (count - 1) as f64
    } else {
        0.0
    }
}

/// Vertical position of `value` on a `height`-tall chart topping at `max`
/// (0 at the bottom; values are clamped into the chart).
pub(crate) fn y_of(value: f64, max: f64, height: f64) -> f64 {
    let max = if max > 0.0 { max } else { 1.0 };
    height - (value / max).clamp(0.0, 1.0) * height
}

/// `points` of an SVG polyline through `values`; a single value becomes a
/// short dash so it shows.
pub(crate) fn polyline(values: &[f64], max: f64, width: f64, height: f64) -> String {
    let mut points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            format!(
                "{:.1},{:.1}",
                x_of(i, values.len(), width),
                y_of(v, max, height)
            )
        })
        .collect();
    if let [only] = values {
        points.push(format!("6.0,{:.1}", y_of(*only, max, height)));
    }
    points.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_span_the_width_and_scale_to_the_maximum() {
        assert_eq!(
            polyline(&[0.0, 2.0, 4.0], 4.0, 100.0, 10.0),
            "0.0,10.0 50.0,5.0 100.0,0.0"
        );
        assert_eq!(polyline(&[1.0], 1.0, 100.0, 10.0), "0.0,0.0 6.0,0.0");
        assert_eq!(
            y_of(5.0, 0.0, 10.0),
            0.0,
            "a zero maximum does not divide by zero"
        );
    }
}
