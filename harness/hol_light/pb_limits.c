/* setrlimit for the forked checker child. OCaml's Unix library has no
   binding for it, and the limits must be set by the child on itself before
   it evaluates any untrusted text. */
#include <errno.h>
#include <sys/resource.h>
#include <caml/fail.h>
#include <caml/memory.h>
#include <caml/mlvalues.h>

static const int pb_resources[] = {RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE,
                                   RLIMIT_CORE, RLIMIT_NOFILE};

/* pb_setrlimit(resource_index, soft, hard); a negative bound means
   "unlimited". */
value pb_setrlimit(value resource, value soft, value hard) {
  CAMLparam3(resource, soft, hard);
  long idx = Long_val(resource);
  if (idx < 0 || idx >= (long)(sizeof(pb_resources) / sizeof(int)))
    caml_invalid_argument("pb_setrlimit: unknown resource");
  struct rlimit rl;
  rl.rlim_cur = Long_val(soft) < 0 ? RLIM_INFINITY : (rlim_t)Long_val(soft);
  rl.rlim_max = Long_val(hard) < 0 ? RLIM_INFINITY : (rlim_t)Long_val(hard);
  if (setrlimit(pb_resources[idx], &rl) != 0)
    caml_failwith("pb_setrlimit: setrlimit failed");
  CAMLreturn(Val_unit);
}
