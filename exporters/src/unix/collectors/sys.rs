//! The few system calls node_exporter makes itself (everything else is read from procfs/sysfs files): statfs,
//! uname, localtime, the page size and the interface address list.

use std::ffi::{CStr, CString};
use std::io;
use std::net::IpAddr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The fields of `struct statfs` node_exporter reports.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct FsStats {
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
    pub bsize: u64,
}

/// `statfs(2)` on `path`.
pub(crate) fn statfs(path: &Path) -> io::Result<FsStats> {
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // SAFETY: `libc::statfs` is a plain C struct of integers, for which all-zero bytes is a valid value.
    let mut buf: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated string alive for the call and `buf` a valid, exclusively borrowed
    // `struct statfs` the kernel fills in; neither pointer is retained after the call returns.
    let rc = unsafe { libc::statfs(c.as_ptr(), &mut buf) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // The field types differ between libc targets (i64/u64/u32), hence the `as` conversions.
    #[allow(clippy::unnecessary_cast)]
    Ok(FsStats {
        blocks: buf.f_blocks as u64,
        bfree: buf.f_bfree as u64,
        bavail: buf.f_bavail as u64,
        files: buf.f_files as u64,
        ffree: buf.f_ffree as u64,
        bsize: buf.f_bsize as u64,
    })
}

/// The six `uname(2)` strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Uname {
    pub sysname: String,
    pub release: String,
    pub version: String,
    pub machine: String,
    pub nodename: String,
    pub domainname: String,
}

fn field(chars: &[libc::c_char]) -> String {
    // The kernel NUL-terminates every field; stop at the array end regardless, without trusting it.
    let bytes: Vec<u8> = chars.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// `uname(2)`.
pub(crate) fn uname() -> io::Result<Uname> {
    // SAFETY: `utsname` is a C struct of char arrays; all-zero bytes is a valid value.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, exclusively borrowed `struct utsname` the call fills in and does not retain.
    if unsafe { libc::uname(&mut u) } != 0 {
        return Err(io::Error::last_os_error());
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let domainname = field(&u.domainname);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let domainname = String::new();
    Ok(Uname {
        sysname: field(&u.sysname),
        release: field(&u.release),
        version: field(&u.version),
        machine: field(&u.machine),
        nodename: field(&u.nodename),
        domainname,
    })
}

/// The local time zone's abbreviation and UTC offset in seconds at Unix time `secs` (Go's `time.Now().Zone()`).
pub(crate) fn local_zone(secs: i64) -> io::Result<(String, i64)> {
    let t = secs as libc::time_t;
    // SAFETY: `tm` is a C struct of integers and one pointer; all-zero (null pointer) is a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: `localtime_r` is the thread-safe variant: it writes only into `tm`, which we own, and reads `t`.
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return Err(io::Error::last_os_error());
    }
    let zone = if tm.tm_zone.is_null() {
        String::new()
    } else {
        // SAFETY: a non-null `tm_zone` set by localtime_r points to a NUL-terminated abbreviation in libc's static
        // time zone data, which lives for the whole process; we copy it out immediately.
        unsafe { CStr::from_ptr(tm.tm_zone) }.to_string_lossy().into_owned()
    };
    Ok((zone, tm.tm_gmtoff as i64))
}

/// The memory page size (`mem` in /proc/net/sockstat counts pages).
pub(crate) fn page_size() -> u64 {
    // SAFETY: sysconf only reads a system constant.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as u64
    } else {
        4096
    }
}

/// One address of a network interface with its prefix length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IfAddr {
    pub device: String,
    pub addr: IpAddr,
    pub prefix: u32,
}

/// The IPv4 and IPv6 addresses of all interfaces (`getifaddrs(3)`), as Go's `net.Interfaces()` + `Addrs()`.
pub(crate) fn interface_addrs() -> io::Result<Vec<IfAddr>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs writes a list head into `head`, which we free with freeifaddrs below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut out = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a non-null node of the list getifaddrs returned, valid until freeifaddrs.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: `ifa_name` is a NUL-terminated string owned by the list.
        let device = unsafe { CStr::from_ptr(ifa.ifa_name) }.to_string_lossy().into_owned();
        // SAFETY: `ifa_addr` is non-null and points to a sockaddr whose family field is always readable.
        let family = unsafe { (*ifa.ifa_addr).sa_family } as i32;
        let (addr, mask) = match family {
            libc::AF_INET => {
                // SAFETY: family AF_INET guarantees the address (and a non-null netmask) is a sockaddr_in.
                let a = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
                let m = if ifa.ifa_netmask.is_null() {
                    0
                } else {
                    // SAFETY: as above, the netmask of an AF_INET entry is a sockaddr_in owned by the list.
                    unsafe { &*(ifa.ifa_netmask as *const libc::sockaddr_in) }.sin_addr.s_addr
                };
                (IpAddr::from(u32::from_be(a.sin_addr.s_addr).to_be_bytes()), u32::from_be(m).count_ones())
            }
            libc::AF_INET6 => {
                // SAFETY: family AF_INET6 guarantees the address (and a non-null netmask) is a sockaddr_in6.
                let a = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in6) };
                let m = if ifa.ifa_netmask.is_null() {
                    0
                } else {
                    // SAFETY: as above, the netmask of an AF_INET6 entry is a sockaddr_in6.
                    unsafe { &*(ifa.ifa_netmask as *const libc::sockaddr_in6) }.sin6_addr.s6_addr.iter().map(|b| b.count_ones()).sum()
                };
                (IpAddr::from(a.sin6_addr.s6_addr), m)
            }
            _ => continue,
        };
        out.push(IfAddr { device, addr, prefix: mask });
    }
    // SAFETY: `head` came from a successful getifaddrs and is freed exactly once; no reference into it survives.
    unsafe { libc::freeifaddrs(head) };
    Ok(out)
}
