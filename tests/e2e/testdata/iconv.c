/* iconv.c: convert U+65E5 from UTF-8 to EUC-JP and print the bytes in hex
 * (c6fc); glibc loads EUC-JP.so and libJIS.so from its gconv modules. */
#include <iconv.h>
#include <stdio.h>
int main(void) {
	iconv_t cd = iconv_open("EUC-JP", "UTF-8");
	if (cd == (iconv_t)-1) { perror("iconv_open"); return 1; }
	char in[] = "\xe6\x97\xa5", out[8], *ip = in, *op = out; size_t il = 3, ol = sizeof out;
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) { perror("iconv"); return 1; }
	printf("%02x%02x\n", (unsigned char)out[0], (unsigned char)out[1]);
	return 0;
}
