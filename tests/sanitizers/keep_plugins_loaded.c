/* Preloaded into the sanitizer runs of MPI programs (launch/sanitize.sh): dlclose
 * becomes a no-op, so the plugins Open MPI unloads in MPI_Finalize stay mapped and
 * LeakSanitizer can still name the module of each allocation they made at start-up.
 * Those are then matched by tests/sanitizers/lsan.supp ("mca_", "libpmix.so", ...);
 * without this they show as "<unknown module>" and cannot be told apart from dcomp's.
 * reference: dlclose(3); LeakSanitizer suppressions ("leak:<module or function>"). */
int dlclose(void* handle) {
  (void)handle;
  return 0;
}
