//! Geospatial commands: GEOADD, GEOPOS, GEODIST, GEOHASH, GEORADIUS(_RO),
//! GEORADIUSBYMEMBER(_RO), GEOSEARCH, GEOSEARCHSTORE.
//!
//! A geospatial index is a sorted set whose scores are 52-bit geohashes (26 bits of longitude
//! and 26 of latitude, interleaved), as in Redis. A search computes the geohash box around the
//! center at a precision fitted to the radius and its eight neighbours, reads each box's score
//! range from the sorted set, and keeps the members inside the circle or rectangle, in the same
//! order and with the same floating-point steps as Redis 7.0, so replies match byte for byte.
//! The commands that can store (GEORADIUS ... STORE, GEOSEARCHSTORE) are `Run::Txn`, so the
//! destination may live on another shard.

use bytes::Bytes;
use rustis_resp::errors::SYNTAX;
use rustis_resp::Out;
use rustis_storage::zset::ZSetValue;
use rustis_storage::{OpError, Value};

use crate::args::{eq_ic, parse_f64, parse_i64};
use crate::ctx::ShardCtx;
use crate::registry::{Binding, Registry, Run};
use crate::txn::Keys;
use crate::zset::{cmd_zadd, store_result, zset_limits};

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(Binding::new("geoadd", Run::Shard(cmd_geoadd)));
    r.add(Binding::new("geopos", Run::Shard(cmd_geopos)));
    r.add(Binding::new("geodist", Run::Shard(cmd_geodist)));
    r.add(Binding::new("geohash", Run::Shard(cmd_geohash)));
    r.add(Binding::new(
        "georadius",
        Run::Txn(|k, a, o| search(k, a, o, RADIUS_COORDS)),
    ));
    r.add(Binding::new(
        "georadius_ro",
        Run::Txn(|k, a, o| search(k, a, o, RADIUS_COORDS | NOSTORE)),
    ));
    r.add(Binding::new(
        "georadiusbymember",
        Run::Txn(|k, a, o| search(k, a, o, RADIUS_MEMBER)),
    ));
    r.add(Binding::new(
        "georadiusbymember_ro",
        Run::Txn(|k, a, o| search(k, a, o, RADIUS_MEMBER | NOSTORE)),
    ));
    r.add(Binding::new(
        "geosearch",
        Run::Txn(|k, a, o| search(k, a, o, SEARCH)),
    ));
    r.add(Binding::new(
        "geosearchstore",
        Run::Txn(|k, a, o| search(k, a, o, SEARCH | SEARCH_STORE)),
    ));
}

// ---------------------------------------------------------------------------------------------
// Geohashes.

const LAT_MIN: f64 = -85.05112878;
const LAT_MAX: f64 = 85.05112878;
const LONG_MIN: f64 = -180.0;
const LONG_MAX: f64 = 180.0;
const STEP_MAX: u8 = 26;
const D_R: f64 = std::f64::consts::PI / 180.0;
const EARTH_RADIUS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;

/// A geohash of `step` bits per coordinate.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Hash {
    bits: u64,
    step: u8,
}

impl Hash {
    fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

/// A decoded box: longitude and latitude ranges.
#[derive(Debug, Clone, Copy, Default)]
struct Area {
    lon_min: f64,
    lon_max: f64,
    lat_min: f64,
    lat_max: f64,
}

/// Spreads the bits of `x` over the even positions and those of `y` over the odd ones.
fn interleave64(x: u32, y: u32) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut v = v as u64;
        v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        v = (v | (v << 1)) & 0x5555_5555_5555_5555;
        v
    }
    spread(x) | (spread(y) << 1)
}

/// The inverse of [`interleave64`]: even bits in the low half, odd bits in the high half.
fn deinterleave64(v: u64) -> u64 {
    fn squash(mut v: u64) -> u64 {
        v &= 0x5555_5555_5555_5555;
        v = (v | (v >> 1)) & 0x3333_3333_3333_3333;
        v = (v | (v >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v >> 4)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v >> 8)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v >> 16)) & 0x0000_0000_FFFF_FFFF;
        v
    }
    squash(v) | (squash(v >> 1) << 32)
}

/// Encodes a point over the given ranges; `None` outside them.
fn encode_in(
    lon_range: (f64, f64),
    lat_range: (f64, f64),
    lon: f64,
    lat: f64,
    step: u8,
) -> Option<Hash> {
    if step > 32 || step == 0 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_range.0 || lat > lat_range.1 || lon < lon_range.0 || lon > lon_range.1 {
        return None;
    }
    let mut lat_offset = (lat - lat_range.0) / (lat_range.1 - lat_range.0);
    let mut lon_offset = (lon - lon_range.0) / (lon_range.1 - lon_range.0);
    lat_offset *= (1u64 << step) as f64;
    lon_offset *= (1u64 << step) as f64;
    Some(Hash {
        bits: interleave64(lat_offset as u32, lon_offset as u32),
        step,
    })
}

fn encode(lon: f64, lat: f64, step: u8) -> Option<Hash> {
    encode_in((LONG_MIN, LONG_MAX), (LAT_MIN, LAT_MAX), lon, lat, step)
}

fn decode(hash: Hash) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let sep = deinterleave64(hash.bits);
    let lat_scale = LAT_MAX - LAT_MIN;
    let lon_scale = LONG_MAX - LONG_MIN;
    let ilat = sep as u32;
    let ilon = (sep >> 32) as u32;
    let div = (1u64 << hash.step) as f64;
    Some(Area {
        lat_min: LAT_MIN + (ilat as f64 * 1.0 / div) * lat_scale,
        lat_max: LAT_MIN + ((ilat as f64 + 1.0) * 1.0 / div) * lat_scale,
        lon_min: LONG_MIN + (ilon as f64 * 1.0 / div) * lon_scale,
        lon_max: LONG_MIN + ((ilon as f64 + 1.0) * 1.0 / div) * lon_scale,
    })
}

/// The center of a 52-bit score's box, as `[longitude, latitude]`.
fn decode_score(score: f64) -> Option<[f64; 2]> {
    let a = decode(Hash {
        bits: score as u64,
        step: STEP_MAX,
    })?;
    let lon = ((a.lon_min + a.lon_max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((a.lat_min + a.lat_max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    Some([lon, lat])
}

fn align52(h: Hash) -> u64 {
    h.bits << (52 - h.step as u32 * 2)
}

fn move_x(h: &mut Hash, d: i8) {
    if d == 0 {
        return;
    }
    let mut x = h.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = h.bits & 0x5555_5555_5555_5555;
    let zz = 0x5555_5555_5555_5555u64 >> (64 - h.step as u32 * 2);
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaa_aaaa_aaaa_aaaau64 >> (64 - h.step as u32 * 2);
    h.bits = x | y;
}

fn move_y(h: &mut Hash, d: i8) {
    if d == 0 {
        return;
    }
    let x = h.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let mut y = h.bits & 0x5555_5555_5555_5555;
    let zz = 0xaaaa_aaaa_aaaa_aaaau64 >> (64 - h.step as u32 * 2);
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555_5555_5555_5555u64 >> (64 - h.step as u32 * 2);
    h.bits = x | y;
}

/// The eight neighbours: north, south, east, west, north-east, north-west, south-east,
/// south-west.
fn neighbors(h: Hash) -> [Hash; 8] {
    let m = |dx: i8, dy: i8| {
        let mut n = h;
        move_x(&mut n, dx);
        move_y(&mut n, dy);
        n
    };
    [
        m(0, 1),
        m(0, -1),
        m(1, 0),
        m(-1, 0),
        m(1, 1),
        m(-1, 1),
        m(1, -1),
        m(-1, -1),
    ]
}

fn estimate_steps(mut range: f64, lat: f64) -> u8 {
    if range == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

fn deg_rad(a: f64) -> f64 {
    a * D_R
}

fn rad_deg(a: f64) -> f64 {
    a / D_R
}

fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// The haversine distance in meters, as Redis computes it.
fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = deg_rad(lon1);
    let lon2r = deg_rad(lon2);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = deg_rad(lat1);
    let lat2r = deg_rad(lat2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS * a.sqrt().asin()
}

// ---------------------------------------------------------------------------------------------
// Shapes.

#[derive(Debug, Clone, Copy)]
enum Kind {
    Circle { radius: f64 },
    Box { width: f64, height: f64 },
}

#[derive(Debug, Clone, Copy)]
struct Shape {
    kind: Kind,
    /// `[longitude, latitude]` of the center.
    xy: [f64; 2],
    /// Meters per unit.
    conversion: f64,
}

impl Shape {
    /// `[min_lon, min_lat, max_lon, max_lat]`.
    fn bounds(&self) -> [f64; 4] {
        let (lon, lat) = (self.xy[0], self.xy[1]);
        let (h, w) = match self.kind {
            Kind::Circle { radius } => (radius, radius),
            Kind::Box { width, height } => (height / 2.0, width / 2.0),
        };
        let height = self.conversion * h;
        let width = self.conversion * w;
        let lat_delta = rad_deg(height / EARTH_RADIUS);
        let long_delta_top = rad_deg(width / EARTH_RADIUS / deg_rad(lat + lat_delta).cos());
        let long_delta_bottom = rad_deg(width / EARTH_RADIUS / deg_rad(lat - lat_delta).cos());
        let south = lat < 0.0;
        let d = if south {
            long_delta_bottom
        } else {
            long_delta_top
        };
        [lon - d, lat - lat_delta, lon + d, lat + lat_delta]
    }

    /// The box around the center and its neighbours to read (zeroed where not needed), in the
    /// order Redis reads them: center, N, S, E, W, NE, NW, SE, SW.
    fn areas(&self) -> [Hash; 9] {
        let b = self.bounds();
        let (min_lon, min_lat, max_lon, max_lat) = (b[0], b[1], b[2], b[3]);
        let (lon, lat) = (self.xy[0], self.xy[1]);
        let radius = match self.kind {
            Kind::Circle { radius } => radius,
            Kind::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        } * self.conversion;
        let mut steps = estimate_steps(radius, lat);
        let mut hash = encode(lon, lat, steps).unwrap_or_default();
        let mut nb = neighbors(hash);
        let mut area = decode(hash).unwrap_or_default();
        let dec = |h: Hash| decode(h).unwrap_or_default();
        let decrease = dec(nb[0]).lat_max < max_lat
            || dec(nb[1]).lat_min > min_lat
            || dec(nb[2]).lon_max < max_lon
            || dec(nb[3]).lon_min > min_lon;
        if steps > 1 && decrease {
            steps -= 1;
            hash = encode(lon, lat, steps).unwrap_or_default();
            nb = neighbors(hash);
            area = decode(hash).unwrap_or_default();
        }
        if steps >= 2 {
            let zero = Hash::default();
            // N=0 S=1 E=2 W=3 NE=4 NW=5 SE=6 SW=7
            if area.lat_min < min_lat {
                nb[1] = zero;
                nb[7] = zero;
                nb[6] = zero;
            }
            if area.lat_max > max_lat {
                nb[0] = zero;
                nb[4] = zero;
                nb[5] = zero;
            }
            if area.lon_min < min_lon {
                nb[3] = zero;
                nb[7] = zero;
                nb[5] = zero;
            }
            if area.lon_max > max_lon {
                nb[2] = zero;
                nb[6] = zero;
                nb[4] = zero;
            }
        }
        [hash, nb[0], nb[1], nb[2], nb[3], nb[4], nb[5], nb[6], nb[7]]
    }

    /// The point of `score` and its distance to the center, if it lies inside.
    fn contains(&self, score: f64) -> Option<([f64; 2], f64)> {
        let xy = decode_score(score)?;
        let (x1, y1) = (self.xy[0], self.xy[1]);
        match self.kind {
            Kind::Circle { radius } => {
                let d = distance(x1, y1, xy[0], xy[1]);
                (d <= radius * self.conversion).then_some((xy, d))
            }
            Kind::Box { width, height } => {
                let (w, h) = (width * self.conversion, height * self.conversion);
                if lat_distance(xy[1], y1) > h / 2.0 {
                    return None;
                }
                if distance(xy[0], xy[1], x1, xy[1]) > w / 2.0 {
                    return None;
                }
                Some((xy, distance(x1, y1, xy[0], xy[1])))
            }
        }
    }
}

/// A member found by a search. It borrows the member's name from the sorted set: a search
/// finds many members and replies with a few, so nothing is copied until a reply or a
/// destination needs it.
struct Point<'a> {
    member: &'a [u8],
    xy: [f64; 2],
    dist: f64,
    score: f64,
}

/// The members with scores in `min..max` inside `shape`, appended to `found` (stopping at
/// `limit` found, 0: none).
fn points_in_range<'a>(
    z: &'a ZSetValue,
    min: f64,
    max: f64,
    shape: &Shape,
    found: &mut Vec<Point<'a>>,
    limit: usize,
) {
    for (m, s) in z.iter_from_score(|s| s < min) {
        if s >= max {
            break;
        }
        if let Some((xy, dist)) = shape.contains(s) {
            found.push(Point {
                member: m,
                xy,
                dist,
                score: s,
            });
        }
        if !found.is_empty() && limit != 0 && found.len() >= limit {
            break;
        }
    }
}

fn members_of_areas<'a>(z: &'a ZSetValue, shape: &Shape, limit: usize) -> Vec<Point<'a>> {
    let boxes = shape.areas();
    let mut found = Vec::new();
    let mut last = 0;
    for (i, h) in boxes.iter().enumerate() {
        if h.is_zero() {
            continue;
        }
        // A huge radius can make neighbours repeat; Redis skips a box equal to the previous
        // one read (but never compares with the center box).
        if last != 0 && *h == boxes[last] {
            continue;
        }
        if !found.is_empty() && limit != 0 && found.len() >= limit {
            break;
        }
        let min = align52(*h);
        let max = align52(Hash {
            bits: h.bits + 1,
            step: h.step,
        });
        points_in_range(z, min as f64, max as f64, shape, &mut found, limit);
        last = i;
    }
    found
}

// ---------------------------------------------------------------------------------------------
// Replies.

/// A distance with four decimals, as Redis's `fixedpoint_d2string(d, 4)`.
fn fmt_distance(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".into();
    }
    let v = (d * 10000.0).round_ties_even() as i64;
    let (neg, v) = if v < 0 {
        ("-", v.unsigned_abs())
    } else {
        ("", v as u64)
    };
    format!("{neg}{}.{:04}", v / 10000, v % 10000)
}

/// A coordinate as Redis's `addReplyHumanLongDouble`: `%.17Lf` without trailing zeros.
fn coord(out: &mut Out, d: f64) {
    let mut s = format!("{d:.17}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" {
        s = "0".into();
    }
    if out.resp3 {
        out.raw(format!(",{s}\r\n").as_bytes());
    } else {
        out.bulk(s.as_bytes());
    }
}

fn unit(arg: &[u8]) -> Result<f64, String> {
    if eq_ic(arg, "m") {
        Ok(1.0)
    } else if eq_ic(arg, "km") {
        Ok(1000.0)
    } else if eq_ic(arg, "ft") {
        Ok(0.3048)
    } else if eq_ic(arg, "mi") {
        Ok(1609.34)
    } else {
        Err("ERR unsupported unit provided. please use M, KM, FT, MI".into())
    }
}

fn lon_lat(lon: &[u8], lat: &[u8]) -> Result<[f64; 2], String> {
    let x = parse_f64(lon).map_err(|e| e.message().to_string())?;
    let y = parse_f64(lat).map_err(|e| e.message().to_string())?;
    if !(LONG_MIN..=LONG_MAX).contains(&x) || !(LAT_MIN..=LAT_MAX).contains(&y) {
        return Err(format!("ERR invalid longitude,latitude pair {x:.6},{y:.6}"));
    }
    Ok([x, y])
}

fn num(arg: &[u8], what: &str) -> Result<f64, String> {
    parse_f64(arg).map_err(|_| format!("ERR {what}"))
}

fn radius_and_unit(r: &[u8], u: &[u8]) -> Result<(f64, f64), String> {
    let d = num(r, "need numeric radius")?;
    if d < 0.0 {
        return Err("ERR radius cannot be negative".into());
    }
    Ok((d, unit(u)?))
}

fn read_zset(v: Option<&Value>) -> Result<Option<&ZSetValue>, OpError> {
    match v {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(OpError::WrongType),
    }
}

// ---------------------------------------------------------------------------------------------
// GEOADD, GEOPOS, GEODIST, GEOHASH.

/// GEOADD key [NX|XX] [CH] longitude latitude member [...]
fn cmd_geoadd(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let (mut nx, mut xx) = (false, false);
    let mut at = 2;
    while at < args.len() {
        let o = &args[at][..];
        if eq_ic(o, "nx") {
            nx = true;
        } else if eq_ic(o, "xx") {
            xx = true;
        } else if !eq_ic(o, "ch") {
            break;
        }
        at += 1;
    }
    if !(args.len() - at).is_multiple_of(3) || (xx && nx) {
        return out.error(SYNTAX);
    }
    let mut zargs: Vec<Bytes> = Vec::with_capacity(at + (args.len() - at) / 3 * 2);
    zargs.push(Bytes::from_static(b"zadd"));
    zargs.extend(args[1..at].iter().cloned());
    for t in args[at..].chunks(3) {
        let xy = match lon_lat(&t[0], &t[1]) {
            Ok(xy) => xy,
            Err(e) => return out.error(&e),
        };
        let bits = encode(xy[0], xy[1], STEP_MAX).map_or(0, align52);
        zargs.push(Bytes::from(bits.to_string()));
        zargs.push(t[2].clone());
    }
    cmd_zadd(ctx, &zargs, out);
}

/// GEOPOS key member [member ...]
fn cmd_geopos(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let db = ctx.db();
    let hit = db.contains(&args[1]);
    db.count_lookup(hit);
    let z = match read_zset(db.get(&args[1])) {
        Ok(z) => z,
        Err(e) => return out.error(e.message()),
    };
    out.array(args.len() - 2);
    for m in &args[2..] {
        match z.and_then(|z| z.score(m)).and_then(decode_score) {
            Some(xy) => {
                out.array(2);
                coord(out, xy[0]);
                coord(out, xy[1]);
            }
            None => out.null_array(),
        }
    }
}

/// GEODIST key member1 member2 [M|KM|FT|MI]
fn cmd_geodist(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let mut to_meter = 1.0;
    if args.len() == 5 {
        match unit(&args[4]) {
            Ok(u) => to_meter = u,
            Err(e) => return out.error(&e),
        }
    } else if args.len() > 5 {
        return out.error(SYNTAX);
    }
    let db = ctx.db();
    let hit = db.contains(&args[1]);
    db.count_lookup(hit);
    let z = match read_zset(db.get(&args[1])) {
        Ok(Some(z)) => z,
        Ok(None) => return out.null(),
        Err(e) => return out.error(e.message()),
    };
    let (Some(s1), Some(s2)) = (z.score(&args[2]), z.score(&args[3])) else {
        return out.null();
    };
    match (decode_score(s1), decode_score(s2)) {
        (Some(a), Some(b)) => {
            out.bulk(fmt_distance(distance(a[0], a[1], b[0], b[1]) / to_meter).as_bytes())
        }
        _ => out.null(),
    }
}

/// GEOHASH key member [member ...]
fn cmd_geohash(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let db = ctx.db();
    let hit = db.contains(&args[1]);
    db.count_lookup(hit);
    let z = match read_zset(db.get(&args[1])) {
        Ok(z) => z,
        Err(e) => return out.error(e.message()),
    };
    out.array(args.len() - 2);
    for m in &args[2..] {
        let Some(xy) = z.and_then(|z| z.score(m)).and_then(decode_score) else {
            out.null();
            continue;
        };
        // The standard geohash uses latitudes -90..90, not the Mercator-limited range.
        let h = encode_in((-180.0, 180.0), (-90.0, 90.0), xy[0], xy[1], 26).unwrap_or_default();
        let mut buf = [0u8; 11];
        for (i, c) in buf.iter_mut().enumerate() {
            let idx = if i == 10 {
                0
            } else {
                ((h.bits >> (52 - (i + 1) * 5)) & 0x1f) as usize
            };
            *c = ALPHABET[idx];
        }
        out.bulk(&buf);
    }
}

// ---------------------------------------------------------------------------------------------
// GEORADIUS, GEORADIUSBYMEMBER, GEOSEARCH, GEOSEARCHSTORE.

const RADIUS_COORDS: u8 = 1;
const RADIUS_MEMBER: u8 = 2;
const NOSTORE: u8 = 4;
const SEARCH: u8 = 8;
const SEARCH_STORE: u8 = 16;

#[derive(PartialEq, Clone, Copy)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// The search family, as Redis's `georadiusGeneric`. Keys: the source first, then a STORE
/// destination (GEORADIUS); GEOSEARCHSTORE's are destination then source.
fn search(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out, flags: u8) {
    let src_idx = if flags & SEARCH_STORE != 0 { 1 } else { 0 };
    let limits = zset_limits(keys.config());
    let src_exists = match read_zset(keys.get(src_idx).map(|e| &e.value)) {
        Ok(z) => z.is_some(),
        Err(e) => return out.error(e.message()),
    };
    let mut store: Option<Bytes> = None;
    let mut storedist = false;
    let mut shape = Shape {
        kind: Kind::Circle { radius: 0.0 },
        xy: [0.0, 0.0],
        conversion: 1.0,
    };
    let base;
    let member_xy = |keys: &mut dyn Keys, m: &[u8]| -> Option<[f64; 2]> {
        let z = read_zset(keys.get(src_idx).map(|e| &e.value)).ok()??;
        decode_score(z.score(m)?)
    };
    if flags & RADIUS_COORDS != 0 {
        base = 6;
        match lon_lat(&args[2], &args[3]) {
            Ok(xy) => shape.xy = xy,
            Err(e) => return out.error(&e),
        }
        match radius_and_unit(&args[4], &args[5]) {
            Ok((r, c)) => {
                shape.kind = Kind::Circle { radius: r };
                shape.conversion = c;
            }
            Err(e) => return out.error(&e),
        }
    } else if flags & RADIUS_MEMBER != 0 {
        base = 5;
        if src_exists {
            match member_xy(keys, &args[2]) {
                Some(xy) => shape.xy = xy,
                None => return out.error("ERR could not decode requested zset member"),
            }
            match radius_and_unit(&args[3], &args[4]) {
                Ok((r, c)) => {
                    shape.kind = Kind::Circle { radius: r };
                    shape.conversion = c;
                }
                Err(e) => return out.error(&e),
            }
        }
    } else if flags & SEARCH_STORE != 0 {
        base = 3;
        store = Some(args[1].clone());
    } else {
        base = 2;
    }
    let (mut withdist, mut withhash, mut withcoord, mut any) = (false, false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut count: i64 = 0;
    let is_search = flags & SEARCH != 0;
    let mut i = base;
    while i < args.len() {
        let a = &args[i][..];
        let rem = args.len() - i - 1;
        if eq_ic(a, "withdist") {
            withdist = true;
        } else if eq_ic(a, "withhash") {
            withhash = true;
        } else if eq_ic(a, "withcoord") {
            withcoord = true;
        } else if eq_ic(a, "any") {
            any = true;
        } else if eq_ic(a, "asc") {
            sort = Sort::Asc;
        } else if eq_ic(a, "desc") {
            sort = Sort::Desc;
        } else if eq_ic(a, "count") && rem >= 1 {
            match parse_i64(&args[i + 1]) {
                Ok(n) if n <= 0 => return out.error("ERR COUNT must be > 0"),
                Ok(n) => count = n,
                Err(e) => return out.error(e.message()),
            }
            i += 1;
        } else if (eq_ic(a, "store") || eq_ic(a, "storedist"))
            && rem >= 1
            && flags & NOSTORE == 0
            && !is_search
        {
            store = Some(args[i + 1].clone());
            storedist = eq_ic(a, "storedist");
            i += 1;
        } else if eq_ic(a, "storedist") && is_search && flags & SEARCH_STORE != 0 {
            storedist = true;
        } else if eq_ic(a, "frommember") && rem >= 1 && is_search && !fromloc {
            if src_exists {
                match member_xy(keys, &args[i + 1]) {
                    Some(xy) => shape.xy = xy,
                    None => return out.error("ERR could not decode requested zset member"),
                }
            }
            frommember = true;
            i += 1;
        } else if eq_ic(a, "fromlonlat") && rem >= 2 && is_search && !frommember {
            match lon_lat(&args[i + 1], &args[i + 2]) {
                Ok(xy) => shape.xy = xy,
                Err(e) => return out.error(&e),
            }
            fromloc = true;
            i += 2;
        } else if eq_ic(a, "byradius") && rem >= 2 && is_search && !bybox {
            match radius_and_unit(&args[i + 1], &args[i + 2]) {
                Ok((r, c)) => {
                    shape.kind = Kind::Circle { radius: r };
                    shape.conversion = c;
                }
                Err(e) => return out.error(&e),
            }
            byradius = true;
            i += 2;
        } else if eq_ic(a, "bybox") && rem >= 3 && is_search && !byradius {
            let w = match num(&args[i + 1], "need numeric width") {
                Ok(w) => w,
                Err(e) => return out.error(&e),
            };
            let h = match num(&args[i + 2], "need numeric height") {
                Ok(h) => h,
                Err(e) => return out.error(&e),
            };
            if h < 0.0 || w < 0.0 {
                return out.error("ERR height or width cannot be negative");
            }
            match unit(&args[i + 3]) {
                Ok(c) => shape.conversion = c,
                Err(e) => return out.error(&e),
            }
            shape.kind = Kind::Box {
                width: w,
                height: h,
            };
            bybox = true;
            i += 3;
        } else {
            return out.error(SYNTAX);
        }
        i += 1;
    }
    if store.is_some() && (withdist || withhash || withcoord) {
        return out.error(&format!(
            "ERR {} is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
            if flags & SEARCH_STORE != 0 {
                "GEOSEARCHSTORE"
            } else {
                "STORE option in GEORADIUS"
            }
        ));
    }
    let name = String::from_utf8_lossy(&args[0]);
    if is_search && !(frommember || fromloc) {
        return out.error(&format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        ));
    }
    if is_search && !(byradius || bybox) {
        return out.error(&format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"
        ));
    }
    if any && count == 0 {
        return out.error("ERR the ANY argument requires COUNT argument");
    }
    // The destination's key position: after the source (GEORADIUS ... STORE), or first.
    let dst = store.as_ref().map(|s| {
        if flags & SEARCH_STORE != 0 {
            0
        } else {
            (1..keys.len())
                .rev()
                .find(|&k| keys.key(k) == &s[..])
                .unwrap_or(0)
        }
    });
    let found = {
        let z = match read_zset(keys.get(src_idx).map(|e| &e.value)) {
            Ok(Some(z)) => z,
            _ => {
                return match dst {
                    Some(d) => {
                        keys.delete(d);
                        out.int(0)
                    }
                    None => out.array(0),
                };
            }
        };
        if count != 0 && sort == Sort::None && !any {
            sort = Sort::Asc;
        }
        members_of_areas(z, &shape, if any { count as usize } else { 0 })
    };
    let mut found = found;
    if found.is_empty() && dst.is_none() {
        return out.array(0);
    }
    match sort {
        Sort::Asc => found.sort_by(|a, b| a.dist.total_cmp(&b.dist)),
        Sort::Desc => found.sort_by(|a, b| b.dist.total_cmp(&a.dist)),
        Sort::None => {}
    }
    let n = if count == 0 {
        found.len()
    } else {
        found.len().min(count as usize)
    };
    found.truncate(n);
    for p in &mut found {
        p.dist /= shape.conversion;
    }
    if let Some(d) = dst {
        let pairs: Vec<(Box<[u8]>, f64)> = found
            .into_iter()
            .map(|p| (p.member.into(), if storedist { p.dist } else { p.score }))
            .collect();
        return out.int(store_result(keys, d, pairs, limits));
    }
    let opts = withdist as usize + withhash as usize + withcoord as usize;
    out.array(n);
    for p in found {
        if opts > 0 {
            out.array(opts + 1);
        }
        out.bulk(p.member);
        if withdist {
            out.bulk(fmt_distance(p.dist).as_bytes());
        }
        if withhash {
            out.int(p.score as i64);
        }
        if withcoord {
            out.array(2);
            coord(out, p.xy[0]);
            coord(out, p.xy[1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaving_round_trips() {
        for (x, y) in [
            (0u32, 0u32),
            (1, 2),
            (0xffff_ffff, 0),
            (0x1234_5678, 0x9abc_def0),
        ] {
            let v = interleave64(x, y);
            assert_eq!(deinterleave64(v), (x as u64) | ((y as u64) << 32));
        }
    }

    #[test]
    fn distances_format_with_four_decimals() {
        assert_eq!(fmt_distance(0.0), "0.0000");
        assert_eq!(fmt_distance(166274.15156960033), "166274.1516");
        assert_eq!(fmt_distance(0.00004), "0.0000");
        assert_eq!(fmt_distance(1.5), "1.5000");
    }
}
