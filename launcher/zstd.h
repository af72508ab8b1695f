/*
 * zstd.h: a freestanding Zstandard decoder (RFC 8878) for the single-file
 * runtime. No libc, no allocation, no recursion: the caller passes the
 * whole input, an output buffer and a workspace. It decodes everything the
 * format allows except dictionaries (the writer never uses them): raw, RLE
 * and compressed blocks; raw, RLE, Huffman and treeless literals, in one
 * or four streams; predefined, RLE, FSE and repeated sequence tables.
 * Skippable frames are skipped and concatenated frames decoded one after
 * the other. The frame checksum (XXH64) is not checked: the runtime checks
 * the payload's SHA-256 before it decodes anything.
 *
 * Every read and write is bounds-checked: corrupt input gives -1, never a
 * read outside src or a write outside dst. tests (tools/internal/runfile)
 * decode what github.com/klauspost/compress/zstd writes at every level and
 * compare, and fuzz it with broken frames.
 */
#ifndef PORTABLE_ZSTD_H
#define PORTABLE_ZSTD_H

typedef unsigned char zu8;
typedef unsigned short zu16;
typedef unsigned int zu32;
typedef unsigned long long zu64;
typedef long long zs64;

#define ZSTD_BLOCK_MAX (128 * 1024)
#define ZSTD_HUF_MAX_BITS 11
#define ZSTD_LL_MAX_LOG 9
#define ZSTD_ML_MAX_LOG 9
#define ZSTD_OF_MAX_LOG 8

struct zstd_fse_entry {
	zu16 next; /* base of the next state */
	zu8 sym;
	zu8 bits;
};

struct zstd_huf_entry {
	zu8 sym;
	zu8 bits;
};

/* A sequence table in use: its log and entries (or one RLE symbol). */
struct zstd_seq_table {
	int log; /* accuracy log; -1 when no table is set yet */
	struct zstd_fse_entry *t;
};

struct zstd_ws {
	struct zstd_fse_entry ll[1 << ZSTD_LL_MAX_LOG];
	struct zstd_fse_entry ml[1 << ZSTD_ML_MAX_LOG];
	struct zstd_fse_entry of[1 << ZSTD_OF_MAX_LOG];
	struct zstd_seq_table llt, mlt, oft;
	struct zstd_huf_entry huf[1 << ZSTD_HUF_MAX_BITS];
	int huf_log; /* 0 when no Huffman table is set yet */
	zu8 lit[ZSTD_BLOCK_MAX + 64];
	zu32 rep[3];
};

/* ---- bit readers ---------------------------------------------------- */

/* Forward reader (FSE table descriptions): bits from the lowest of each
 * byte up. Reading past the end reads zeros and sets over. */
struct zstd_fbits {
	const zu8 *p;
	zu64 n;   /* bytes */
	zu64 pos; /* bit position */
	int over;
};

static zu32 zstd_fpeek(struct zstd_fbits *b, int nb)
{
	zu32 v = 0;
	for (int i = 0; i < nb; i++) {
		zu64 at = b->pos + (zu64)i;
		if ((at >> 3) < b->n)
			v |= (zu32)((b->p[at >> 3] >> (at & 7)) & 1) << i;
	}
	return v;
}

static void zstd_fskip(struct zstd_fbits *b, int nb)
{
	b->pos += (zu64)nb;
	if (b->pos > b->n * 8)
		b->over = 1;
}

/* Backward reader (Huffman and FSE streams): the stream is read from its
 * last bit down, after the end marker (the highest set bit of the last
 * byte). pos counts the bits left; reading past the start reads zeros and
 * makes pos negative. */
struct zstd_bbits {
	const zu8 *p;
	zu64 n; /* bytes */
	zs64 pos;
};

static int zstd_binit(struct zstd_bbits *b, const zu8 *p, zu64 n)
{
	if (n == 0 || p[n - 1] == 0)
		return -1;
	int h = 7;
	while (!(p[n - 1] >> h))
		h--;
	b->p = p;
	b->n = n;
	b->pos = (zs64)((n - 1) * 8) + h;
	return 0;
}

/* zstd_load64 reads 8 bytes little-endian (one load on x86_64 and
 * aarch64: gcc merges the shifts). */
static zu64 zstd_load64(const zu8 *p)
{
	return (zu64)p[0] | (zu64)p[1] << 8 | (zu64)p[2] << 16 | (zu64)p[3] << 24 | (zu64)p[4] << 32 |
	       (zu64)p[5] << 40 | (zu64)p[6] << 48 | (zu64)p[7] << 56;
}

static zu32 zstd_bread(struct zstd_bbits *b, int nb)
{
	if (nb == 0)
		return 0;
	zs64 lo = b->pos - nb;
	zu32 v = 0;
	if (lo >= 0 && (zu64)(lo >> 3) + 8 <= b->n) {
		/* The common case: 8 whole bytes from lo's byte on. */
		v = (zu32)((zstd_load64(b->p + (lo >> 3)) >> (lo & 7)) & ((1ull << nb) - 1));
	} else {
		for (int i = nb - 1; i >= 0; i--) {
			zs64 at = lo + i;
			v <<= 1;
			if (at >= 0)
				v |= (b->p[at >> 3] >> (at & 7)) & 1;
		}
	}
	b->pos = lo;
	return v;
}

/* ---- FSE ---------------------------------------------------------- */

static int zstd_highbit(zu32 v)
{
	int h = 0;
	while (v >>= 1)
		h++;
	return h;
}

/* Builds a decoding table of log lg from normalised counts norm[0..nsym)
 * (-1 for "less than one"). */
static int zstd_fse_build(struct zstd_fse_entry *t, int lg, const short *norm, int nsym)
{
	zu32 size = 1u << lg, high = size - 1, mask = size - 1;
	zu16 next[256];
	for (int s = 0; s < nsym; s++) {
		if (norm[s] == -1) {
			t[high--].sym = (zu8)s;
			next[s] = 1;
		} else {
			next[s] = (zu16)norm[s];
		}
	}
	zu32 step = (size >> 1) + (size >> 3) + 3, pos = 0;
	for (int s = 0; s < nsym; s++) {
		for (int i = 0; i < norm[s]; i++) {
			t[pos].sym = (zu8)s;
			do
				pos = (pos + step) & mask;
			while (pos > high);
		}
	}
	if (pos != 0)
		return -1;
	for (zu32 u = 0; u < size; u++) {
		zu32 s = t[u].sym;
		zu32 st = next[s]++;
		if (st == 0)
			return -1;
		int bits = lg - zstd_highbit(st);
		if (bits < 0 || bits > lg)
			return -1;
		t[u].bits = (zu8)bits;
		t[u].next = (zu16)((st << bits) - size);
	}
	return 0;
}

/* Reads an FSE table description at src (at most n bytes) into norm, for
 * symbols up to maxsym and a log up to maxlog. Returns the bytes used. */
static zs64 zstd_fse_read(const zu8 *src, zu64 n, short *norm, int *nsym, int maxsym, int *lg, int maxlog)
{
	struct zstd_fbits b = {src, n, 0, 0};
	int log = (int)zstd_fpeek(&b, 4) + 5;
	zstd_fskip(&b, 4);
	if (log > maxlog)
		return -1;
	int remaining = (1 << log) + 1, threshold = 1 << log, nb = log + 1, s = 0;
	int prev0 = 0;
	while (remaining > 1 && s <= maxsym) {
		if (prev0) {
			int n0 = s;
			for (;;) {
				int r = (int)zstd_fpeek(&b, 2);
				zstd_fskip(&b, 2);
				n0 += r;
				if (r != 3)
					break;
				if (b.over)
					return -1;
			}
			if (n0 > maxsym)
				return -1;
			while (s < n0)
				norm[s++] = 0;
			if (s > maxsym)
				break;
		}
		int max = (2 * threshold - 1) - remaining;
		int count;
		zu32 v = zstd_fpeek(&b, nb);
		if ((int)(v & (zu32)(threshold - 1)) < max) {
			count = (int)(v & (zu32)(threshold - 1));
			zstd_fskip(&b, nb - 1);
		} else {
			count = (int)(v & (zu32)(2 * threshold - 1));
			if (count >= threshold)
				count -= max;
			zstd_fskip(&b, nb);
		}
		count--;
		remaining -= count < 0 ? -count : count;
		norm[s++] = (short)count;
		prev0 = count == 0;
		while (remaining < threshold) {
			nb--;
			threshold >>= 1;
		}
		if (b.over)
			return -1;
	}
	if (remaining != 1 || b.over)
		return -1;
	*nsym = s;
	*lg = log;
	return (zs64)((b.pos + 7) >> 3);
}

/* ---- Huffman literals ----------------------------------------------- */

/* Reads a Huffman tree description into ws->huf; returns bytes used. */
static zs64 zstd_huf_read(struct zstd_ws *ws, const zu8 *src, zu64 n)
{
	zu8 w[256];
	int nw = 0;
	if (n < 1)
		return -1;
	zu32 hb = src[0];
	zu64 used;
	if (hb >= 128) {
		nw = (int)hb - 127;
		used = 1 + (zu64)((nw + 1) / 2);
		if (used > n)
			return -1;
		for (int i = 0; i < nw; i++) {
			zu8 byte = src[1 + i / 2];
			w[i] = (i & 1) ? (byte & 15) : (byte >> 4);
		}
	} else {
		used = 1 + hb;
		if (used > n || hb == 0)
			return -1;
		short norm[256];
		int nsym, lg;
		zs64 hdr = zstd_fse_read(src + 1, hb, norm, &nsym, 255, &lg, 6);
		if (hdr < 0 || (zu64)hdr > hb)
			return -1;
		struct zstd_fse_entry t[64];
		if (zstd_fse_build(t, lg, norm, nsym) < 0)
			return -1;
		struct zstd_bbits b;
		if (zstd_binit(&b, src + 1 + hdr, hb - (zu64)hdr) < 0)
			return -1;
		zu32 s1 = zstd_bread(&b, lg), s2 = zstd_bread(&b, lg);
		/* Two interleaved states; the one whose update runs past the
		 * start of the stream gives the last but one symbol. */
		for (;;) {
			if (nw > 254)
				return -1;
			w[nw++] = t[s1].sym;
			s1 = t[s1].next + zstd_bread(&b, t[s1].bits);
			if (b.pos < 0) {
				w[nw++] = t[s2].sym;
				break;
			}
			if (nw > 254)
				return -1;
			w[nw++] = t[s2].sym;
			s2 = t[s2].next + zstd_bread(&b, t[s2].bits);
			if (b.pos < 0) {
				w[nw++] = t[s1].sym;
				break;
			}
		}
	}
	/* The last symbol's weight makes the total a power of two. */
	zu32 total = 0;
	for (int i = 0; i < nw; i++) {
		if (w[i] > ZSTD_HUF_MAX_BITS + 1)
			return -1;
		if (w[i])
			total += 1u << (w[i] - 1);
	}
	if (total == 0)
		return -1;
	int maxbits = zstd_highbit(total) + 1;
	if (maxbits > ZSTD_HUF_MAX_BITS)
		return -1;
	zu32 rest = (1u << maxbits) - total;
	if (rest & (rest - 1))
		return -1;
	if (nw > 255)
		return -1;
	w[nw++] = (zu8)(zstd_highbit(rest) + 1);
	/* Fill: the lightest weights (longest codes) take the lowest slots. */
	zu32 rank[ZSTD_HUF_MAX_BITS + 2] = {0};
	for (int i = 0; i < nw; i++)
		rank[w[i]]++;
	zu32 start[ZSTD_HUF_MAX_BITS + 2], next = 0;
	for (int k = 1; k <= maxbits; k++) {
		start[k] = next;
		next += rank[k] << (k - 1);
	}
	if (next != (1u << maxbits))
		return -1;
	for (int s = 0; s < nw; s++) {
		int k = w[s];
		if (!k)
			continue;
		zu32 len = 1u << (k - 1);
		for (zu32 i = 0; i < len; i++) {
			ws->huf[start[k] + i].sym = (zu8)s;
			ws->huf[start[k] + i].bits = (zu8)(maxbits + 1 - k);
		}
		start[k] += len;
	}
	ws->huf_log = maxbits;
	return (zs64)used;
}

/* Decodes one Huffman stream of n bytes into out[0..count). */
static int zstd_huf_stream(struct zstd_ws *ws, const zu8 *src, zu64 n, zu8 *out, zu64 count)
{
	struct zstd_bbits b;
	if (zstd_binit(&b, src, n) < 0)
		return -1;
	int lg = ws->huf_log;
	for (zu64 i = 0; i < count; i++) {
		/* Peek lg bits (zeros past the start), then give back the
		 * unused ones. */
		zs64 pos = b.pos;
		zu32 v = zstd_bread(&b, lg);
		struct zstd_huf_entry e = ws->huf[v];
		b.pos = pos - e.bits;
		if (b.pos < 0)
			return -1;
		out[i] = e.sym;
	}
	return b.pos == 0 ? 0 : -1;
}

/* ---- sequences -------------------------------------------------------- */

static const short zstd_ll_default[36] = {4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2,
					  2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1};
static const short zstd_ml_default[53] = {1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1,
					  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
					  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1};
static const short zstd_of_default[29] = {1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1,
					  1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1};

static const zu32 zstd_ll_base[36] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18,
				      20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096,
				      8192, 16384, 32768, 65536};
static const zu8 zstd_ll_bits[36] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1,
				     1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const zu32 zstd_ml_base[53] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
				      21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 37,
				      39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051,
				      4099, 8195, 16387, 32771, 65539};
static const zu8 zstd_ml_bits[53] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1,
				     2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

/* Sets up one sequence table by its mode; returns bytes used. */
static zs64 zstd_seq_table(struct zstd_seq_table *st, struct zstd_fse_entry *buf, int mode, const zu8 *src, zu64 n,
			   const short *def, int ndef, int deflog, int maxsym, int maxlog)
{
	switch (mode) {
	case 0: /* predefined */
		if (zstd_fse_build(buf, deflog, def, ndef) < 0)
			return -1;
		st->log = deflog;
		st->t = buf;
		return 0;
	case 1: /* RLE: one symbol, no bits */
		if (n < 1 || src[0] > maxsym)
			return -1;
		buf[0].sym = src[0];
		buf[0].bits = 0;
		buf[0].next = 0;
		st->log = 0;
		st->t = buf;
		return 1;
	case 2: { /* FSE */
		short norm[256];
		int nsym, lg;
		zs64 used = zstd_fse_read(src, n, norm, &nsym, maxsym, &lg, maxlog);
		if (used < 0 || (zu64)used > n || zstd_fse_build(buf, lg, norm, nsym) < 0)
			return -1;
		st->log = lg;
		st->t = buf;
		return used;
	}
	default: /* repeat */
		if (st->log < 0)
			return -1;
		return 0;
	}
}

/* ---- blocks and frames ------------------------------------------------ */

struct zstd_out {
	zu8 *p;
	zu64 cap;
	zu64 n;     /* bytes written */
	zu64 frame; /* where the current frame's output starts */
};

/* Decodes the literals section; returns bytes used, the literals in
 * ws->lit[0..*nlit). */
static zs64 zstd_literals(struct zstd_ws *ws, const zu8 *src, zu64 n, zu64 *nlit)
{
	if (n < 1)
		return -1;
	int type = src[0] & 3, sf = (src[0] >> 2) & 3;
	zu64 regen, comp = 0, hdr;
	if (type < 2) {
		switch (sf) {
		case 0:
		case 2:
			hdr = 1;
			regen = src[0] >> 3;
			break;
		case 1:
			hdr = 2;
			if (n < 2)
				return -1;
			regen = (src[0] >> 4) + ((zu64)src[1] << 4);
			break;
		default:
			hdr = 3;
			if (n < 3)
				return -1;
			regen = (src[0] >> 4) + ((zu64)src[1] << 4) + ((zu64)src[2] << 12);
			break;
		}
		if (regen > ZSTD_BLOCK_MAX)
			return -1;
		if (type == 0) {
			if (hdr + regen > n)
				return -1;
			for (zu64 i = 0; i < regen; i++)
				ws->lit[i] = src[hdr + i];
			*nlit = regen;
			return (zs64)(hdr + regen);
		}
		if (hdr + 1 > n)
			return -1;
		for (zu64 i = 0; i < regen; i++)
			ws->lit[i] = src[hdr];
		*nlit = regen;
		return (zs64)(hdr + 1);
	}
	int streams = sf == 0 ? 1 : 4;
	switch (sf) {
	case 0:
	case 1:
		hdr = 3;
		if (n < 3)
			return -1;
		regen = (src[0] >> 4) + ((zu64)(src[1] & 0x3f) << 4);
		comp = (src[1] >> 6) + ((zu64)src[2] << 2);
		break;
	case 2:
		hdr = 4;
		if (n < 4)
			return -1;
		regen = (src[0] >> 4) + ((zu64)src[1] << 4) + ((zu64)(src[2] & 3) << 12);
		comp = (src[2] >> 2) + ((zu64)src[3] << 6);
		break;
	default:
		hdr = 5;
		if (n < 5)
			return -1;
		regen = (src[0] >> 4) + ((zu64)src[1] << 4) + ((zu64)(src[2] & 0x3f) << 12);
		comp = (src[2] >> 6) + ((zu64)src[3] << 2) + ((zu64)src[4] << 10);
		break;
	}
	if (regen > ZSTD_BLOCK_MAX || hdr + comp > n)
		return -1;
	const zu8 *p = src + hdr;
	zu64 left = comp;
	if (type == 2) {
		zs64 t = zstd_huf_read(ws, p, left);
		if (t < 0)
			return -1;
		p += t;
		left -= (zu64)t;
	} else if (!ws->huf_log) {
		return -1; /* treeless with no earlier tree */
	}
	if (streams == 1) {
		if (zstd_huf_stream(ws, p, left, ws->lit, regen) < 0)
			return -1;
	} else {
		if (left < 6 || regen < 4)
			return -1;
		zu64 s1 = p[0] | (zu64)p[1] << 8, s2 = p[2] | (zu64)p[3] << 8, s3 = p[4] | (zu64)p[5] << 8;
		if (6 + s1 + s2 + s3 > left)
			return -1;
		zu64 s4 = left - 6 - s1 - s2 - s3;
		zu64 per = (regen + 3) / 4;
		if (3 * per > regen)
			return -1;
		const zu8 *q = p + 6;
		if (zstd_huf_stream(ws, q, s1, ws->lit, per) < 0 ||
		    zstd_huf_stream(ws, q + s1, s2, ws->lit + per, per) < 0 ||
		    zstd_huf_stream(ws, q + s1 + s2, s3, ws->lit + 2 * per, per) < 0 ||
		    zstd_huf_stream(ws, q + s1 + s2 + s3, s4, ws->lit + 3 * per, regen - 3 * per) < 0)
			return -1;
	}
	*nlit = regen;
	return (zs64)(hdr + comp);
}

static int zstd_sequences(struct zstd_ws *ws, const zu8 *src, zu64 n, zu64 nlit, struct zstd_out *o, zu64 window)
{
	const zu8 *lit = ws->lit, *litend = ws->lit + nlit;
	zu64 nseq;
	zu64 at = 0;
	if (n < 1)
		return -1;
	if (src[0] == 0) {
		nseq = 0;
		at = 1;
	} else if (src[0] < 128) {
		nseq = src[0];
		at = 1;
	} else if (src[0] < 255) {
		if (n < 2)
			return -1;
		nseq = ((zu64)(src[0] - 128) << 8) + src[1];
		at = 2;
	} else {
		if (n < 3)
			return -1;
		nseq = src[1] + ((zu64)src[2] << 8) + 0x7f00;
		at = 3;
	}
	if (nseq > 0) {
		if (at >= n)
			return -1;
		zu8 modes = src[at++];
		if (modes & 3)
			return -1;
		zs64 u;
		u = zstd_seq_table(&ws->llt, ws->ll, modes >> 6, src + at, n - at, zstd_ll_default, 36, 6, 35, ZSTD_LL_MAX_LOG);
		if (u < 0)
			return -1;
		at += (zu64)u;
		u = zstd_seq_table(&ws->oft, ws->of, (modes >> 4) & 3, src + at, n - at, zstd_of_default, 29, 5, 31, ZSTD_OF_MAX_LOG);
		if (u < 0)
			return -1;
		at += (zu64)u;
		u = zstd_seq_table(&ws->mlt, ws->ml, (modes >> 2) & 3, src + at, n - at, zstd_ml_default, 53, 6, 52, ZSTD_ML_MAX_LOG);
		if (u < 0)
			return -1;
		at += (zu64)u;
		struct zstd_bbits b;
		if (zstd_binit(&b, src + at, n - at) < 0)
			return -1;
		zu32 sll = zstd_bread(&b, ws->llt.log), sof = zstd_bread(&b, ws->oft.log), sml = zstd_bread(&b, ws->mlt.log);
		for (zu64 i = 0; i < nseq; i++) {
			struct zstd_fse_entry ell = ws->llt.t[sll], eof = ws->oft.t[sof], eml = ws->mlt.t[sml];
			if (eof.sym > 31 || eml.sym > 52 || ell.sym > 35)
				return -1;
			zu32 ofv = (1u << eof.sym) + zstd_bread(&b, eof.sym);
			zu64 ml = zstd_ml_base[eml.sym] + zstd_bread(&b, zstd_ml_bits[eml.sym]);
			zu64 ll = zstd_ll_base[ell.sym] + zstd_bread(&b, zstd_ll_bits[ell.sym]);
			zu64 off;
			if (ofv > 3) {
				off = ofv - 3;
				ws->rep[2] = ws->rep[1];
				ws->rep[1] = ws->rep[0];
				ws->rep[0] = (zu32)off;
			} else {
				zu32 idx = ofv + (ll == 0);
				if (idx == 1) {
					off = ws->rep[0];
				} else {
					off = idx == 4 ? (zu64)ws->rep[0] - 1 : ws->rep[idx - 1];
					if (idx != 2)
						ws->rep[2] = ws->rep[1];
					ws->rep[1] = ws->rep[0];
					ws->rep[0] = (zu32)off;
				}
			}
			if (i + 1 < nseq) {
				sll = ell.next + zstd_bread(&b, ell.bits);
				sml = eml.next + zstd_bread(&b, eml.bits);
				sof = eof.next + zstd_bread(&b, eof.bits);
			}
			if (b.pos < 0)
				return -1;
			/* Execute: literals, then the match. */
			if (ll > (zu64)(litend - lit) || ll > o->cap - o->n)
				return -1;
			for (zu64 k = 0; k < ll; k++)
				o->p[o->n + k] = lit[k];
			o->n += ll;
			lit += ll;
			zu64 have = o->n - o->frame;
			if (off == 0 || off > have || off > window || ml > o->cap - o->n)
				return -1;
			zu8 *d = o->p + o->n;
			const zu8 *s = d - off;
			zu64 k = 0;
			if (off >= 8)
				for (; k + 8 <= ml; k += 8)
					for (int j = 0; j < 8; j++)
						d[k + j] = s[k + j];
			for (; k < ml; k++)
				d[k] = s[k];
			o->n += ml;
		}
		if (b.pos != 0)
			return -1;
	} else if (at != n) {
		return -1;
	}
	zu64 rest = (zu64)(litend - lit);
	if (rest > o->cap - o->n)
		return -1;
	for (zu64 k = 0; k < rest; k++)
		o->p[o->n + k] = lit[k];
	o->n += rest;
	return 0;
}

/* Decodes one frame starting at src (n bytes available); returns the
 * bytes it used. */
static zs64 zstd_frame(struct zstd_ws *ws, const zu8 *src, zu64 n, struct zstd_out *o)
{
	if (n < 6)
		return -1;
	zu8 fhd = src[4];
	int fcs_flag = fhd >> 6, single = (fhd >> 5) & 1, checksum = (fhd >> 2) & 1, did = fhd & 3;
	if (fhd & 8)
		return -1; /* reserved bit */
	zu64 at = 5, window = 0;
	if (!single) {
		zu8 wd = src[at++];
		zu64 base = 1ull << (10 + (wd >> 3));
		window = base + (base / 8) * (wd & 7);
	}
	static const int did_len[4] = {0, 1, 2, 4};
	if (did)
		return -1; /* dictionaries are not supported */
	at += (zu64)did_len[did];
	int fcs_len = fcs_flag == 0 ? single : (1 << fcs_flag);
	if (at + (zu64)fcs_len > n)
		return -1;
	zu64 fcs = 0;
	for (int i = 0; i < fcs_len; i++)
		fcs |= (zu64)src[at + i] << (8 * i);
	if (fcs_len == 2)
		fcs += 256;
	at += (zu64)fcs_len;
	if (single)
		window = fcs;
	o->frame = o->n;
	ws->huf_log = 0;
	ws->llt.log = ws->mlt.log = ws->oft.log = -1;
	ws->rep[0] = 1;
	ws->rep[1] = 4;
	ws->rep[2] = 8;
	zu64 blockmax = window < ZSTD_BLOCK_MAX ? window : ZSTD_BLOCK_MAX;
	for (;;) {
		if (at + 3 > n)
			return -1;
		zu32 bh = src[at] | (zu32)src[at + 1] << 8 | (zu32)src[at + 2] << 16;
		at += 3;
		int last = bh & 1, type = (bh >> 1) & 3;
		zu64 size = bh >> 3;
		if (type == 3 || size > ZSTD_BLOCK_MAX)
			return -1;
		if (type == 1) {
			if (at + 1 > n || size > o->cap - o->n)
				return -1;
			for (zu64 k = 0; k < size; k++)
				o->p[o->n + k] = src[at];
			o->n += size;
			at += 1;
		} else {
			if (at + size > n)
				return -1;
			if (type == 0) {
				if (size > o->cap - o->n)
					return -1;
				for (zu64 k = 0; k < size; k++)
					o->p[o->n + k] = src[at + k];
				o->n += size;
			} else {
				if (size > blockmax && blockmax > 0)
					return -1;
				zu64 nlit = 0;
				zs64 used = zstd_literals(ws, src + at, size, &nlit);
				if (used < 0)
					return -1;
				if (zstd_sequences(ws, src + at + used, size - (zu64)used, nlit, o, window ? window : ~0ull) < 0)
					return -1;
			}
			at += size;
		}
		if (last)
			break;
	}
	if (fcs_flag || single) {
		if (o->n - o->frame != fcs)
			return -1;
	}
	if (checksum) {
		if (at + 4 > n)
			return -1;
		at += 4;
	}
	return (zs64)at;
}

/* zstd_decode decodes the frames in src[0..n) into dst[0..cap) and
 * returns the bytes written, or -1 for corrupt or unsupported input or an
 * output that does not fit. */
static zs64 zstd_decode(zu8 *dst, zu64 cap, const zu8 *src, zu64 n, struct zstd_ws *ws)
{
	struct zstd_out o = {dst, cap, 0, 0};
	zu64 at = 0;
	if (n == 0)
		return -1;
	while (at < n) {
		if (n - at < 8)
			return -1;
		zu32 magic = src[at] | (zu32)src[at + 1] << 8 | (zu32)src[at + 2] << 16 | (zu32)src[at + 3] << 24;
		if ((magic & 0xfffffff0u) == 0x184d2a50u) {
			zu64 len = src[at + 4] | (zu64)src[at + 5] << 8 | (zu64)src[at + 6] << 16 | (zu64)src[at + 7] << 24;
			if (len > n - at - 8)
				return -1;
			at += 8 + len;
			continue;
		}
		if (magic != 0xfd2fb528u)
			return -1;
		zs64 used = zstd_frame(ws, src + at, n - at, &o);
		if (used < 0)
			return -1;
		at += (zu64)used;
	}
	return (zs64)o.n;
}

#endif
