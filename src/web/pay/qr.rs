//! The QR code of the page's own URL, as inline SVG (no image request, no
//! style attribute, so the strict CSP holds). A desktop buyer scans it to
//! continue on the phone that has the bank app.

use qrcode::QrCode;
use qrcode::render::svg;

/// None if the URL is too long for a QR code (it never is for ours).
pub fn svg(url: &str) -> Option<String> {
    let code = QrCode::new(url.as_bytes()).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(180, 180)
            .quiet_zone(true)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
    )
}
