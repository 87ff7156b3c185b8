//===- Passes.td - attn dialect passes ---------------------*- tablegen -*-===//
#ifndef ATTN_TRANSFORMS_PASSES_TD
#define ATTN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnFuseAttentionPass : Pass<"attn-fuse-attention"> {
  let summary = "Fuse matmul -> scale -> score_mod -> mask -> softmax -> dropout -> matmul";
  let description = [{
    Rewrites the unfused chain into one `attn.fused_attention`, so the N x N
    score matrix is never materialised. Before:

    ```mlir
    %s = attn.matmul %q, %k transpose_rhs : ... -> tensor<?x?x?x?xf32>
    %t = attn.scale %s by 0.125 : tensor<?x?x?x?xf32>
    %u = attn.mask causal %t : tensor<?x?x?x?xf32>
    %p = attn.softmax %u : tensor<?x?x?x?xf32>
    %o = attn.matmul %p, %v : ... -> tensor<?x?x?x64xbf16>
    ```

    After:

    ```mlir
    %o, %lse = attn.fused_attention %q, %k, %v causal scale 1.250000e-01 : ...
    ```

    Scales and masks commute (a positive scale keeps `-inf`); a score
    modifier after a mask would change the masked scores, so such a chain is
    left unfused. Intermediates with other users are never fused. With
    `remarks` the pass explains, as remarks on the op, each chain it leaves.
    The log-sum-exp result replaces a `logsumexp` of the scores that the
    function returns (the DSL's `return o, logsumexp`).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect"];
  let options = [
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Emit a remark on every chain that is left unfused, saying why">
  ];
}

def AttnTileAttentionPass : Pass<"attn-tile-attention"> {
  let summary = "Choose tiles against the SRAM budget and tile fused attention";
  let description = [{
    Picks the tile configuration of every `attn.fused_attention` from the
    target's SRAM budget model (or from explicit options) and rewrites it into
    `attn.tiled_attention`, which records the tiles, the shared memory they
    need and how the K/V loop skips fully masked blocks. Before:

    ```mlir
    %o, %lse = attn.fused_attention %q, %k, %v causal scale 0.125 : ...
    ```

    After:

    ```mlir
    %o, %lse = attn.tiled_attention %q, %k, %v causal scale 0.125
        tiling #attn.tiling<family = "fwd.mma_sync", block_m = 128, block_n = 64, warps = 4, stages = 2,
                            smem_bytes = 49152> skip causal : ...
    ```

    When no configuration fits the budget the op is reported with the bytes
    it needs and the budget.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"sm_90a\"",
           "GPU architecture whose SRAM and register budget to tile for">,
    Option<"part", "part", "std::string", /*default=*/"\"\"",
           "GPU part whose figures to use (\"H200\", ...; empty = the "
           "architecture's default part)">,
    Option<"sramBudgetBytes", "sram-budget-bytes", "int64_t", /*default=*/"0",
           "Shared memory budget per thread block in bytes (0 = from target)">,
    Option<"blockM", "block-m", "int64_t", /*default=*/"0",
           "Query rows per tile, Br (0 = choose)">,
    Option<"blockN", "block-n", "int64_t", /*default=*/"0",
           "Key rows per tile, Bc (0 = choose)">,
    Option<"warps", "warps", "int64_t", /*default=*/"0",
           "Warps per thread block (0 = choose)">,
    Option<"stages", "stages", "int64_t", /*default=*/"0",
           "K/V copy pipeline depth (0 = choose)">,
    Option<"family", "family", "std::string", /*default=*/"\"\"",
           "Kernel family (\"fwd.mma_sync\", \"fwd.split_kv\"; empty = the "
           "first that supports the op)">
  ];
}

def AttnApproximateMathPass : Pass<"attn-approximate-math"> {
  let summary = "Allow hardware approximations in score modifiers and masks";
  let description = [{
    Marks the transcendental functions and float divisions inside the
    `score_mod` and `mask` regions of every `attn.tiled_attention` with
    `fastmath<afn>`, so the CUDA emitter maps them to the hardware
    approximations (`tanh.approx.f32`, `ex2.approx`, `lg2.approx`,
    `__fdividef`, a multiply by the reciprocal of a constant divisor).
    Before:

    ```mlir
    %t = math.tanh %x : f32
    ```

    After:

    ```mlir
    %t = math.tanh %x fastmath<afn> : f32
    ```

    The approximations keep FlashAttention's error rule on every example
    (the GPU suite checks both ways); `attnc --precise-math` (CompileOptions
    `preciseMath`) leaves this pass out. Float ops outside the regions
    (the kernel's own softmax) are not affected.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect"];
}

#endif // ATTN_TRANSFORMS_PASSES_TD
