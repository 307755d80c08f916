//go:build !purego

#include "textflag.h"

// ENDS sets bit k of R when byte k of X0 ends a run: it equals '"' (X1)
// or '\\' (X2), or is below 0x20 (X3) as a signed byte. It uses X4, X5.
#define ENDS(R) \
	MOVO X0, X4; \
	PCMPEQB X1, X4; \
	MOVO X0, X5; \
	PCMPEQB X2, X5; \
	POR X5, X4; \
	MOVO X3, X5; \
	PCMPGTB X0, X5; \
	POR X5, X4; \
	PMOVMSKB X4, R

// func run(b []byte, i int) int
//
// run is Run for 0 <= i < len(b), sixteen bytes at a time with SSE2 (which
// every amd64 processor has). A byte ends the run when it equals '"' or
// '\\', or when it is below 0x20 as a signed byte: control characters and
// every non-ASCII byte.
TEXT ·run(SB), NOSPLIT, $0-40
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), BX
	MOVQ i+24(FP), AX
	MOVL $0x22222222, DX
	MOVD DX, X1
	PSHUFD $0, X1, X1
	MOVL $0x5c5c5c5c, DX
	MOVD DX, X2
	PSHUFD $0, X2, X2
	MOVL $0x20202020, DX
	MOVD DX, X3
	PSHUFD $0, X3, X3

loop:
	LEAQ 16(AX), DX
	CMPQ DX, BX
	JGT tail
	MOVOU (SI)(AX*1), X0
	ENDS(CX)
	TESTL CX, CX
	JNZ found
	MOVQ DX, AX
	JMP loop

found:
	BSFL CX, CX
	ADDQ CX, AX
	MOVQ AX, ret+32(FP)
	RET

tail:
	// Fewer than sixteen bytes are left from AX. When b holds sixteen,
	// look at its last sixteen and drop the flags of those before AX.
	CMPQ AX, BX
	JGE end
	CMPQ BX, $16
	JLT bytes
	MOVOU -16(SI)(BX*1), X0
	ENDS(DX)
	LEAQ -16(BX), CX
	NEGQ CX
	ADDQ AX, CX // CX = AX - (len-16), in 1..15
	SHRL CX, DX
	TESTL DX, DX
	JZ none
	BSFL DX, DX
	ADDQ DX, AX
	MOVQ AX, ret+32(FP)
	RET

none:
	MOVQ BX, ret+32(FP)
	RET

bytes:
	MOVBQSX (SI)(AX*1), CX
	CMPQ CX, $0x20
	JLT end
	CMPQ CX, $0x22
	JEQ end
	CMPQ CX, $0x5c
	JEQ end
	INCQ AX
	CMPQ AX, BX
	JLT bytes

end:
	MOVQ AX, ret+32(FP)
	RET
