/* A stand-in bcryptprimitives.dll for smoke-running Windows builds under
 * Debian 12's Wine 8.0, which lacks it. Rust's standard library (1.78+)
 * takes its randomness from bcryptprimitives!ProcessPrng; this forwards to
 * RtlGenRandom (advapi32!SystemFunction036), which Wine has. Used only by
 * .ci/run, placed next to the .exe under test; never shipped. */
#include <windows.h>
#define RtlGenRandom SystemFunction036
BOOLEAN WINAPI RtlGenRandom(PVOID buffer, ULONG length);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x7fffffff ? 0x7fffffff : (ULONG)len;
        if (!RtlGenRandom(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
