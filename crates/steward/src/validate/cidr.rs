//! Address ranges in CIDR form (`10.0.5.0/24`), as the configuration
//! names them.

use std::net::IpAddr;

/// An address range an administrator allows (`10.0.5.0/24`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub net: IpAddr,
    pub prefix: u8,
}

impl Range {
    pub fn parse(s: &str) -> Option<Range> {
        let (ip, prefix) = s.trim().split_once('/').map_or((s.trim(), None), |(i, p)| (i, Some(p)));
        let net: IpAddr = ip.parse().ok()?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Range { net, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |a: IpAddr| -> (u128, u8) {
            match a {
                IpAddr::V4(v) => (u128::from(u32::from(v)) << 96, 32),
                IpAddr::V6(v) => (u128::from(v), 128),
            }
        };
        let ((n, nlen), (a, alen)) = (bits(self.net), bits(ip));
        if nlen != alen {
            return false;
        }
        let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix)) };
        n & mask == a & mask
    }
}
