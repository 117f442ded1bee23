//! LOLWUT, as Redis 7.0 answers it: a verbatim text that ends with the version line. With no
//! `VERSION` (or one that names no art) it is just `Redis ver. 7.0.15`; `VERSION 5` draws
//! Georg Nees's "Schotter" (rows of squares, more and more rotated and shifted going down) in
//! Braille characters, and `VERSION 6` a random city skyline in terminal colours, each with
//! Redis's optional size arguments, limits and caption. Pure functions: no server state.

use rand::Rng;

use rustis_resp::errors::NOT_INTEGER;

use crate::args::parse_i64;
use crate::Out;

/// The Redis version the caption names.
const VERSION: &str = "7.0.15";

/// A grid of pixels, each a colour number, drawn outside its bounds without error.
struct Canvas {
    width: i64,
    height: i64,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: i64, height: i64, color: u8) -> Canvas {
        Canvas {
            width,
            height,
            pixels: vec![color; (width * height).max(0) as usize],
        }
    }

    fn set(&mut self, x: i64, y: i64, color: u8) {
        if (0..self.width).contains(&x) && (0..self.height).contains(&y) {
            self.pixels[(x + y * self.width) as usize] = color;
        }
    }

    fn get(&self, x: i64, y: i64) -> u8 {
        if (0..self.width).contains(&x) && (0..self.height).contains(&y) {
            self.pixels[(x + y * self.width) as usize]
        } else {
            0
        }
    }

    /// A line by Bresenham's algorithm.
    fn line(&mut self, (mut x1, mut y1): (i64, i64), (x2, y2): (i64, i64), color: u8) {
        let (dx, dy) = ((x2 - x1).abs(), (y2 - y1).abs());
        let (sx, sy) = (if x1 < x2 { 1 } else { -1 }, if y1 < y2 { 1 } else { -1 });
        let mut err = dx - dy;
        loop {
            self.set(x1, y1, color);
            if x1 == x2 && y1 == y2 {
                break;
            }
            let e2 = err * 2;
            if e2 > -dy {
                err -= dy;
                x1 += sx;
            }
            if e2 < dx {
                err += dx;
                y1 += sy;
            }
        }
    }

    /// A square of side `size` centred on `(x, y)`, turned by `angle` radians.
    fn square(&mut self, x: i64, y: i64, size: f32, angle: f32, color: u8) {
        // The corners lie on a circle whose radius is half the diagonal.
        let r = (size / std::f32::consts::SQRT_2).round();
        let corners: Vec<(i64, i64)> = (0..4)
            .map(|j| {
                let k =
                    std::f32::consts::FRAC_PI_4 + angle + j as f32 * std::f32::consts::FRAC_PI_2;
                (
                    (k.sin() * r + x as f32).round() as i64,
                    (k.cos() * r + y as f32).round() as i64,
                )
            })
            .collect();
        for j in 0..4 {
            self.line(corners[j], corners[(j + 1) % 4], color);
        }
    }

    /// Two columns and four rows of pixels per Braille character (U+2800 and up), rows of
    /// characters one line each.
    fn braille(&self) -> String {
        let mut text = String::new();
        let mut y = 0;
        while y < self.height {
            let mut x = 0;
            while x < self.width {
                let dots = [
                    (0, 0),
                    (0, 1),
                    (0, 2),
                    (1, 0),
                    (1, 1),
                    (1, 2),
                    (0, 3),
                    (1, 3),
                ];
                let mut bits = 0u32;
                for (bit, (dx, dy)) in dots.iter().enumerate() {
                    if self.get(x + dx, y + dy) != 0 {
                        bits |= 1 << bit;
                    }
                }
                text.push(char::from_u32(0x2800 + bits).unwrap_or(' '));
                x += 2;
            }
            if y != self.height - 1 {
                text.push('\n');
            }
            y += 4;
        }
        text
    }
}

/// LOLWUT [VERSION version] [art arguments ...]
pub fn run(args: &[bytes::Bytes], out: &mut Out) {
    let mut rest = &args[1..];
    let mut version = 7;
    if rest.len() >= 2 && crate::args::eq_ic(&rest[0], "version") {
        match parse_i64(&rest[1]) {
            Ok(v) => version = v,
            Err(_) => return out.error(NOT_INTEGER),
        }
        rest = &rest[2..];
    }
    // Redis reads the version as an unsigned number and picks the art by its first digit.
    let major = (version as u32).to_string();
    let text = match major.as_str() {
        "5" | "4" => match numbers(rest, &[66, 8, 12]) {
            Ok(n) => schotter(n[0], n[1], n[2]),
            Err(e) => return out.error(e),
        },
        "6" => match numbers(rest, &[80, 20]) {
            Ok(n) => skyline(n[0], n[1]),
            Err(e) => return out.error(e),
        },
        _ => format!("Redis ver. {VERSION}\n"),
    };
    out.verbatim(text.as_bytes());
}

/// The art's optional numeric arguments, `defaults` for those not given.
fn numbers(args: &[bytes::Bytes], defaults: &[i64]) -> Result<Vec<i64>, &'static str> {
    let mut n = defaults.to_vec();
    for (slot, a) in n.iter_mut().zip(args) {
        *slot = parse_i64(a).map_err(|_| NOT_INTEGER)?;
    }
    Ok(n)
}

/// LOLWUT VERSION 5 [cols] [squares per row] [squares per column].
fn schotter(cols: i64, per_row: i64, per_col: i64) -> String {
    let cols = cols.clamp(1, 1000);
    let per_row = per_row.clamp(1, 200);
    let per_col = per_col.clamp(1, 200);
    let width = cols * 2;
    let pad = if width > 4 { 2 } else { 0 };
    let side = (width - pad * 2) as f32 / per_row as f32;
    let height = (side * per_col as f32) as i64 + pad * 2;
    let mut canvas = Canvas::new(width, height, 0);
    let mut rng = rand::thread_rng();
    for y in 0..per_col {
        for x in 0..per_row {
            let mut sx = (x as f32 * side + side / 2.0 + pad as f32) as i64;
            let mut sy = (y as f32 * side + side / 2.0 + pad as f32) as i64;
            let mut angle = 0.0;
            // From the third row on, the further down, the more disorder.
            if y > 1 {
                let mut r = || {
                    let v = rng.gen::<f32>() / per_col as f32 * y as f32;
                    if rng.gen::<bool>() {
                        -v
                    } else {
                        v
                    }
                };
                angle = r();
                sx += (r() * side / 3.0) as i64;
                sy += (r() * side / 3.0) as i64;
            }
            canvas.square(sx, sy, side, angle, 1);
        }
    }
    format!(
        "{}\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. {VERSION}\n",
        canvas.braille()
    )
}

/// LOLWUT VERSION 6 [cols] [rows].
fn skyline(cols: i64, rows: i64) -> String {
    let cols = cols.clamp(1, 1000);
    let rows = rows.clamp(1, 1000);
    let mut canvas = Canvas::new(cols, rows, 3);
    let mut rng = rand::thread_rng();
    let h = canvas.height;
    // Two rows of grey buildings behind (the lighter ones furthest), then black ones with
    // windows in front.
    for color in [2u8, 1] {
        let mut offset = -10;
        while offset < canvas.width {
            offset += rng.gen_range(0..8);
            let width = 10 + rng.gen_range(0..9);
            let height = h / 2 + rng.gen_range(0..h.max(1)) / if color == 2 { 2 } else { 3 };
            building(&mut canvas, &mut rng, offset, width, height, color, false);
            offset += if color == 2 { width / 2 } else { width + 1 };
        }
    }
    let mut offset = -10;
    while offset < canvas.width {
        offset += rng.gen_range(0..8);
        let mut width = 5 + rng.gen_range(0..14);
        if width % 4 != 0 {
            width += width % 3;
        }
        let height = h / 3 + rng.gen_range(0..h.max(1)) / 2;
        building(&mut canvas, &mut rng, offset, width, height, 0, true);
        offset += width + 5;
    }
    let mut text = String::new();
    for y in 0..canvas.height {
        for x in 0..canvas.width {
            let code = match canvas.get(x, y) {
                1 => "0;90;100m",
                2 => "0;37;47m",
                3 => "0;97;107m",
                _ => "0;30;40m",
            };
            text.push_str(&format!("\x1b[{code} \x1b[0m"));
        }
        if y != canvas.height - 1 {
            text.push('\n');
        }
    }
    format!(
        "{text}\nDedicated to the 8 bit game developers of past and present.\nOriginal 8 bit image from Plaguemon by hikikomori. Redis ver. {VERSION}\n"
    )
}

/// One building standing on the canvas's bottom row: its roof two pixels narrower on each
/// side, and with `windows`, lit windows two pixels wide in every other row and pair of
/// columns of its inner part.
fn building(
    canvas: &mut Canvas,
    rng: &mut impl Rng,
    left: i64,
    width: i64,
    height: i64,
    color: u8,
    windows: bool,
) {
    let bottom = canvas.height - 1;
    let top = bottom - height + 1;
    for y in (top..=bottom).rev() {
        for x in left..left + width {
            if y == top && (x <= left + 1 || x >= left + width - 2) {
                continue;
            }
            let mut c = color;
            if windows && x > left + 1 && x < left + width - 2 && y > top + 1 && y < bottom - 1 {
                let (rx, ry) = (x - (left + 1), y - (top + 1));
                if (rx / 2) % 2 == 1 && ry % 2 == 1 {
                    c = loop {
                        let pick = 1 + rng.gen_range(0..2);
                        if pick != color {
                            break pick;
                        }
                    };
                    if rx % 2 == 1 {
                        c = canvas.get(x - 1, y);
                    }
                }
            }
            canvas.set(x, y, c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn art_has_redis_sizes_and_captions() {
        let s = schotter(66, 8, 12);
        let lines: Vec<&str> = s.lines().collect();
        assert!(s.ends_with("Georg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n"));
        // 132 pixels wide: 66 characters a row.
        assert_eq!(lines[0].chars().count(), 66);
        let k = skyline(10, 3);
        assert_eq!(k.lines().count(), 3 + 2);
        assert!(k.ends_with("Plaguemon by hikikomori. Redis ver. 7.0.15\n"));
    }
}
