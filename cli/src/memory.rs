//! Resident-memory policy: no transparent huge pages unless the operator asks for them.
//!
//! With transparent huge pages set to `always` (common on Linux servers), every 2 MiB-aligned
//! region mimalloc touches is backed by a whole huge page, so an idle pipeline that uses a few
//! MiB of heap shows ~21 MiB resident; without them the bundled example idles at ~14 MiB
//! (README "Benchmarks → alloy run"). The switch has to be thrown before mimalloc's own
//! load-time constructor maps its first memory: from `main` it is too late, the first pages
//! are already huge. Setting `MIMALLOC_ALLOW_THP` in the environment keeps the operator's
//! choice (mimalloc itself honours the variable).

#[cfg(target_os = "linux")]
mod linux {
    /// Runs from `.init_array.00101`: the loader runs prioritised constructors (101 is the first
    /// priority open to programs) before the unprioritised ones, among them mimalloc's
    /// `mi_process_attach`, and long before `main`.
    #[used]
    #[unsafe(link_section = ".init_array.00101")]
    static DISABLE_THP_AT_LOAD: extern "C" fn() = disable_thp_at_load;

    extern "C" fn disable_thp_at_load() {
        // SAFETY: getenv reads the environment that the loader set up before any constructor
        // runs; nothing else runs concurrently at load time (no threads exist yet), and the
        // argument is a NUL-terminated literal. The returned pointer is only compared to null.
        let operator_choice = unsafe { libc::getenv(c"MIMALLOC_ALLOW_THP".as_ptr()) };
        if !operator_choice.is_null() {
            return;
        }
        // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours; it sets
        // a flag on this process's address space that later page faults consult. The result is
        // ignored on purpose: a kernel without the option simply keeps its THP behaviour.
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1 as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong);
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn huge_pages_are_off_for_the_process_unless_asked_for() {
            // SAFETY: PR_GET_THP_DISABLE reads a flag and takes no pointers.
            let disabled = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
            let asked_for = std::env::var_os("MIMALLOC_ALLOW_THP").is_some();
            assert_eq!(disabled == 1, !asked_for, "PR_GET_THP_DISABLE returned {disabled}");
        }
    }
}
