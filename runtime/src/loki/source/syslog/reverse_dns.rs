//! The host names of a peer address (upstream's `net.LookupAddr`, which it joins with `,` for
//! `__syslog_connection_hostname`): the system resolver's `getnameinfo` (hosts file, then
//! DNS). Go returns fully qualified names with a trailing dot, so one is added. Blocking: call
//! it from a blocking task. On other systems than Linux nothing is looked up.

use std::net::IpAddr;

/// The name `ip` resolves back to, or `None` when it has none.
#[cfg(target_os = "linux")]
pub fn lookup(ip: IpAddr) -> Option<String> {
    use std::mem::{size_of, zeroed};

    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
    let len = match ip {
        IpAddr::V4(v4) => {
            // SAFETY: sockaddr_storage is large enough and suitably aligned for sockaddr_in.
            let sin = unsafe { &mut *(&mut storage as *mut libc::sockaddr_storage as *mut libc::sockaddr_in) };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_addr = libc::in_addr { s_addr: u32::from_ne_bytes(v4.octets()) };
            size_of::<libc::sockaddr_in>()
        }
        IpAddr::V6(v6) => {
            // SAFETY: sockaddr_storage is large enough and suitably aligned for sockaddr_in6.
            let sin6 = unsafe { &mut *(&mut storage as *mut libc::sockaddr_storage as *mut libc::sockaddr_in6) };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_addr = libc::in6_addr { s6_addr: v6.octets() };
            size_of::<libc::sockaddr_in6>()
        }
    };
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: the address points to `len` initialized bytes of a sockaddr of its family; the
    // host buffer is writable for its length and getnameinfo NUL-terminates what it writes;
    // no service buffer is asked for.
    let rc = unsafe {
        libc::getnameinfo(
            &storage as *const libc::sockaddr_storage as *const libc::sockaddr,
            len as libc::socklen_t,
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: on success the buffer holds a NUL-terminated string.
    let name = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) }.to_string_lossy().into_owned();
    if name.is_empty() {
        return None;
    }
    Some(if name.ends_with('.') { name } else { format!("{name}.") })
}

#[cfg(not(target_os = "linux"))]
pub fn lookup(_ip: IpAddr) -> Option<String> {
    None
}

/// [`lookup`] on the blocking pool; `""` when there is no name (upstream's label is then
/// absent).
pub async fn hostname(ip: IpAddr) -> String {
    tokio::task::spawn_blocking(move || lookup(ip)).await.ok().flatten().unwrap_or_default()
}
