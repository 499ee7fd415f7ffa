//! The provisioning activity chart: requests per hour by outcome as a server-rendered SVG (stacked bars), so
//! that an admin sees at a glance when provisioning started failing. No script, no inline styles (the CSP
//! forbids both): colours are presentation attributes, each bar has a `<title>` for a tooltip and screen
//! readers, and the whole chart an `aria-label` summary.

use chrono::{Duration, NaiveDateTime, Timelike};
use scimd_store::models::scim_activity::HourBucket;
use std::fmt::Write;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 8.0;
/// Roughly the advance of one character of the 10-unit label font.
const LABEL_CHAR_WIDTH: f64 = 6.0;
pub const SUCCESS_COLOUR: &str = "#16a34a";
pub const CLIENT_ERROR_COLOUR: &str = "#d97706";
pub const SERVER_ERROR_COLOUR: &str = "#dc2626";

/// The hour `t` falls in.
pub fn hour_of(t: NaiveDateTime) -> NaiveDateTime {
    t.with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(t)
}

/// Renders the `hours` hours ending with the one containing `now`; hours without requests are empty slots.
pub fn hourly_svg(buckets: &[HourBucket], now: NaiveDateTime, hours: u32) -> String {
    hourly_svg_sized(buckets, now, hours, WIDTH)
}

/// `hourly_svg` drawn `width` units wide (the height is fixed): a narrow screen gets a chart of fewer hours
/// in a narrower box, so that its text stays readable instead of shrinking with the whole picture.
pub fn hourly_svg_sized(buckets: &[HourBucket], now: NaiveDateTime, hours: u32, width: f64) -> String {
    let hours = hours.max(1);
    let width = width.max(LEFT + f64::from(hours));
    let last = hour_of(now);
    let first = last - Duration::hours(i64::from(hours) - 1);
    let slots: Vec<(NaiveDateTime, [i64; 3])> = (0..hours)
        .map(|i| {
            let hour = first + Duration::hours(i64::from(i));
            let counts = buckets
                .iter()
                .find(|b| b.hour == hour)
                .map(|b| [b.success, b.client_error, b.server_error])
                .unwrap_or([0; 3]);
            (hour, counts)
        })
        .collect();
    let max = slots
        .iter()
        .map(|(_, c)| c.iter().sum::<i64>())
        .max()
        .unwrap_or(0);
    let scale_max = nice_scale(max);
    let totals = slots.iter().fold([0i64; 3], |acc, (_, c)| {
        [acc[0] + c[0], acc[1] + c[1], acc[2] + c[2]]
    });

    let plot_w = width - LEFT;
    let plot_h = HEIGHT - BOTTOM - TOP;
    let slot_w = plot_w / f64::from(hours);
    let bar_w = (slot_w * 0.7).max(1.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="activity-chart" viewBox="0 0 {width} {HEIGHT}" role="img" aria-label="Requests per hour over the last {hours} hours: {} succeeded, {} refused (4xx), {} failed (5xx)" xmlns="http://www.w3.org/2000/svg">"#,
        totals[0], totals[1], totals[2]
    );
    // Horizontal grid lines with their values.
    for step in 0..=4 {
        let value = scale_max * step / 4;
        let y = TOP + plot_h - plot_h * (value as f64) / (scale_max as f64);
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{width}" y1="{y:.1}" y2="{y:.1}" stroke="#e5e7eb" stroke-width="1"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" fill="#6b7280">{value}</text>"##,
            LEFT - 6.0,
            y + 3.0
        );
    }
    for (i, (hour, counts)) in slots.iter().enumerate() {
        let x = LEFT + slot_w * i as f64 + (slot_w - bar_w) / 2.0;
        let mut y = TOP + plot_h;
        let label = format!(
            "{} UTC: {} succeeded, {} refused, {} failed",
            hour.format("%Y-%m-%d %H:00"),
            counts[0],
            counts[1],
            counts[2]
        );
        let _ = write!(svg, "<g><title>{label}</title>");
        for (count, colour) in counts
            .iter()
            .zip([SUCCESS_COLOUR, CLIENT_ERROR_COLOUR, SERVER_ERROR_COLOUR])
        {
            if *count == 0 {
                continue;
            }
            let h = plot_h * (*count as f64) / (scale_max as f64);
            y -= h;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bar_w:.1}" height="{h:.1}" fill="{colour}"/>"#
            );
        }
        // An invisible full-height target so the tooltip works on empty and short bars too.
        let _ = write!(
            svg,
            r#"<rect x="{x:.1}" y="{TOP}" width="{bar_w:.1}" height="{plot_h:.1}" fill="transparent"/></g>"#
        );
        if hour.hour() % 6 == 0 {
            // Midnight names the day, so that two days of hours are never ambiguous.
            let text = if hour.hour() == 0 {
                hour.format("%b %-d").to_string()
            } else {
                hour.format("%H:00").to_string()
            };
            // Kept inside the box: a label under the first or last slot would otherwise be cut in half.
            let half = LABEL_CHAR_WIDTH * text.len() as f64 / 2.0;
            let centre = (x + bar_w / 2.0).clamp(LEFT + half, width - half);
            let _ = write!(
                svg,
                r##"<text x="{centre:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#6b7280">{text}</text>"##,
                HEIGHT - 8.0,
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The top of the scale: four grid steps of a round size (1, 2 or 5 × 10^k) reaching at least `max`, so that
/// every grid line is a whole, evenly spaced number.
fn nice_scale(max: i64) -> i64 {
    let mut magnitude = 1i64;
    loop {
        for step in [1i64, 2, 5] {
            let candidate = step.saturating_mul(magnitude).saturating_mul(4);
            if candidate >= max {
                return candidate;
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 28)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    #[test]
    fn bars_are_stacked_by_outcome_and_scaled_to_the_busiest_hour() {
        let buckets = [
            HourBucket {
                hour: at(10),
                success: 60,
                client_error: 0,
                server_error: 0,
            },
            HourBucket {
                hour: at(11),
                success: 10,
                client_error: 20,
                server_error: 30,
            },
        ];
        let svg = hourly_svg(&buckets, at(11) + Duration::minutes(30), 24);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(
            svg.contains("70 succeeded, 20 refused (4xx), 30 failed (5xx)"),
            "{svg}"
        );
        assert!(svg.contains("2026-11-28 11:00 UTC: 10 succeeded, 20 refused, 30 failed"));
        assert_eq!(svg.matches(SERVER_ERROR_COLOUR).count(), 1);
        assert_eq!(svg.matches(SUCCESS_COLOUR).count(), 2);
        assert_eq!(
            svg.matches("<title>").count(),
            24,
            "one slot per hour, empty ones included"
        );
        assert!(!svg.contains("style="), "the CSP forbids inline styles");
    }

    #[test]
    fn the_scale_is_four_round_steps() {
        assert_eq!(nice_scale(0), 4);
        assert_eq!(nice_scale(3), 4);
        assert_eq!(nice_scale(5), 8);
        assert_eq!(nice_scale(60), 80);
        assert_eq!(nice_scale(1999), 2000);
        assert_eq!(nice_scale(20), 20);
        assert_eq!(nice_scale(i64::MAX), i64::MAX, "no overflow");
    }

    #[test]
    fn grid_lines_are_evenly_spaced_whole_numbers() {
        let buckets = [HourBucket {
            hour: at(10),
            success: 3,
            client_error: 0,
            server_error: 0,
        }];
        let svg = hourly_svg(&buckets, at(11), 24);
        for value in 0..=4 {
            assert!(svg.contains(&format!(">{value}</text>")), "{value}: {svg}");
        }
    }

    #[test]
    fn midnight_names_the_day_and_labels_stay_in_the_box() {
        let svg = hourly_svg_sized(&[], at(12), 24, 360.0);
        assert!(svg.contains(r#"viewBox="0 0 360 200""#));
        assert!(svg.contains(">Nov 28</text>"), "{svg}");
        assert!(svg.contains(">06:00</text>") && svg.contains(">12:00</text>"));
        for x in svg.split("<text x=\"").skip(1) {
            let x: f64 = x.split('"').next().unwrap().parse().unwrap();
            assert!(x <= 360.0 - 15.0, "a label centred at {x} would be cut");
        }
    }
}
