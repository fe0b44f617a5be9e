//go:build amd64 && !purego

#include "textflag.h"

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// Both kernels keep the pointer in DI, the bytes left in CX and the 8-byte
// key pattern in AX, whose low byte applies to (DI). The pattern repeats
// every 4 bytes, so after masking m bytes it is rotated right by 8*(m mod 4)
// bits, and steps of 4, 8, 16 or 32 bytes leave it as it is.

// HEAD masks 1, 2, 4 and 8 bytes as needed to make DI 16-byte aligned.
// It needs at least 15 bytes in CX.
#define HEAD(l1, l2, l4, l8) \
	TESTQ $1, DI \
	JZ    l1 \
	XORB  AL, (DI) \
	INCQ  DI \
	DECQ  CX \
	RORQ  $8, AX \
l1: \
	TESTQ $2, DI \
	JZ    l2 \
	XORW  AX, (DI) \
	ADDQ  $2, DI \
	SUBQ  $2, CX \
	RORQ  $16, AX \
l2: \
	TESTQ $4, DI \
	JZ    l4 \
	XORL  AX, (DI) \
	ADDQ  $4, DI \
	SUBQ  $4, CX \
l4: \
	TESTQ $8, DI \
	JZ    l8 \
	XORQ  AX, (DI) \
	ADDQ  $8, DI \
	SUBQ  $8, CX \
l8:

// TAIL masks the last CX < 16 bytes with 8, 4, 2 and 1-byte steps.
#define TAIL(l8, l4, l2, done) \
	TESTQ $8, CX \
	JZ    l8 \
	XORQ  AX, (DI) \
	ADDQ  $8, DI \
l8: \
	TESTQ $4, CX \
	JZ    l4 \
	XORL  AX, (DI) \
	ADDQ  $4, DI \
l4: \
	TESTQ $2, CX \
	JZ    l2 \
	XORW  AX, (DI) \
	ADDQ  $2, DI \
	RORQ  $16, AX \
l2: \
	TESTQ $1, CX \
	JZ    done \
	XORB  AL, (DI) \
done:

// func xorSSE2(b []byte, key uint64)
TEXT ·xorSSE2(SB), NOSPLIT, $0-32
	MOVQ b_base+0(FP), DI
	MOVQ b_len+8(FP), CX
	MOVQ key+24(FP), AX
	HEAD(sse_h1, sse_h2, sse_h4, sse_h8)

	// DI is 16-byte aligned now, so the aligned moves apply.
	MOVQ       AX, X0
	PUNPCKLQDQ X0, X0

sse_loop64:
	CMPQ CX, $64
	JB   sse_loop16
	MOVO (DI), X1
	MOVO 16(DI), X2
	MOVO 32(DI), X3
	MOVO 48(DI), X4
	PXOR X0, X1
	PXOR X0, X2
	PXOR X0, X3
	PXOR X0, X4
	MOVO X1, (DI)
	MOVO X2, 16(DI)
	MOVO X3, 32(DI)
	MOVO X4, 48(DI)
	ADDQ $64, DI
	SUBQ $64, CX
	JMP  sse_loop64

sse_loop16:
	CMPQ CX, $16
	JB   sse_tail
	MOVO (DI), X1
	PXOR X0, X1
	MOVO X1, (DI)
	ADDQ $16, DI
	SUBQ $16, CX
	JMP  sse_loop16

sse_tail:
	TAIL(sse_t8, sse_t4, sse_t2, sse_done)
	RET

// func xorAVX2(b []byte, key uint64)
TEXT ·xorAVX2(SB), NOSPLIT, $0-32
	MOVQ b_base+0(FP), DI
	MOVQ b_len+8(FP), CX
	MOVQ key+24(FP), AX
	HEAD(avx_h1, avx_h2, avx_h4, avx_h8)

	VMOVQ        AX, X0
	VPBROADCASTQ X0, Y0

	// One 16-byte step more makes DI 32-byte aligned. CX is still at
	// least 17 here.
	TESTQ   $16, DI
	JZ      avx_loop128
	VPXOR   (DI), X0, X1
	VMOVDQA X1, (DI)
	ADDQ    $16, DI
	SUBQ    $16, CX

avx_loop128:
	CMPQ    CX, $128
	JB      avx_loop32
	VPXOR   (DI), Y0, Y1
	VPXOR   32(DI), Y0, Y2
	VPXOR   64(DI), Y0, Y3
	VPXOR   96(DI), Y0, Y4
	VMOVDQA Y1, (DI)
	VMOVDQA Y2, 32(DI)
	VMOVDQA Y3, 64(DI)
	VMOVDQA Y4, 96(DI)
	ADDQ    $128, DI
	SUBQ    $128, CX
	JMP     avx_loop128

avx_loop32:
	CMPQ    CX, $32
	JB      avx_tail16
	VPXOR   (DI), Y0, Y1
	VMOVDQA Y1, (DI)
	ADDQ    $32, DI
	SUBQ    $32, CX
	JMP     avx_loop32

avx_tail16:
	TESTQ   $16, CX
	JZ      avx_tail
	VPXOR   (DI), X0, X1
	VMOVDQA X1, (DI)
	ADDQ    $16, DI

avx_tail:
	VZEROUPPER
	TAIL(avx_t8, avx_t4, avx_t2, avx_done)
	RET
