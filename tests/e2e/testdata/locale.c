/* locale.c: setlocale(LC_ALL, "") from the environment, then print the
 * locale, its codeset and U+65E5 decoded from UTF-8 by mbstowcs. */
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>
int main(void) {
	const char *r = setlocale(LC_ALL, "");
	if (!r) { printf("setlocale failed\n"); return 1; }
	wchar_t w[8];
	size_t n = mbstowcs(w, "\xe6\x97\xa5", 8);
	printf("%s %s %zu %x\n", r, nl_langinfo(CODESET), n, n == 1 ? (unsigned)w[0] : 0);
	return 0;
}
