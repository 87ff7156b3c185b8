//===- AttnOps.td - attn dialect operations ----------------*- tablegen -*-===//
#ifndef ATTN_OPS_TD
#define ATTN_OPS_TD

include "attn/IR/AttnDialect.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/BuiltinTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/RegionKindInterface.td"

def Attn_Element : AnyTypeOf<[F16, BF16, F32]>;
def Attn_Tensor4 : RankedTensorOf<[F16, BF16, F32], [HasAnyRankOfPred<[4]>]>;
def Attn_LseTensor : RankedTensorOf<[F32], [HasAnyRankOfPred<[3]>]>;
def Attn_LengthsTensor : RankedTensorOf<[I32], [HasAnyRankOfPred<[1]>]>;
def Attn_LayoutTensor : RankedTensorOf<[I8, I1], [HasAnyRankOfPred<[3]>]>;

def Attn_BlockTableTensor : RankedTensorOf<[I32], [HasAnyRankOfPred<[2]>]>;
def Attn_SinksTensor : RankedTensorOf<[F32], [HasAnyRankOfPred<[1]>]>;
def Attn_TableTensor : RankedTensorOf<[F32, BF16, F16, I32, I8], [HasAnyRankOfPred<[1, 2, 3, 4]>]>;
def Attn_TokensTensor : RankedTensorOf<[F16, BF16, F32], [HasAnyRankOfPred<[3]>]>;

//===----------------------------------------------------------------------===//
// Views of K/V
//===----------------------------------------------------------------------===//

def Attn_PagedKvOp : Attn_Op<"paged_kv", [Pure]> {
  let summary = "a K or V tensor stored in pages, addressed by a block table";
  let description = [{
    The logical `[batch, heads, seq, dim]` tensor of a paged K/V cache as
    vLLM and FlashInfer store it: `cache` is `[pages, page_size, heads, dim]`
    (page size static), `block_table` is `[batch, max_pages]` and
    `seq_lens` is `[batch]`:

    ```
    result[b, h, j, d] = cache[block_table[b, j / page_size], j % page_size, h, d]
    ```

    for `j < seq_lens[b]`; batch `b` has exactly `seq_lens[b]` keys (keys at
    or past it do not exist: they are not padding but absent, so the
    bottom-right alignment of causal and window masks is at `seq_lens[b]`,
    as in FlashAttention's `seqused_k`). The result's sequence size is
    `max_pages * page_size`, dynamic in IR. Code generation reads the cache
    through the table; the op is never materialized.

    ```mlir
    %k = attn.paged_kv %k_cache, %table, %len
        : tensor<?x16x8x128xbf16>, tensor<?x?xi32>, tensor<?xi32> -> tensor<?x8x?x128xbf16>
    ```
  }];
  let arguments = (ins Attn_Tensor4:$cache, Attn_BlockTableTensor:$block_table,
                       Attn_LengthsTensor:$seq_lens);
  let results = (outs Attn_Tensor4:$result);
  let assemblyFormat = [{
    $cache `,` $block_table `,` $seq_lens attr-dict `:` type($cache) `,`
    type($block_table) `,` type($seq_lens) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getPageSize() { return getCache().getType().getDimSize(1); }
  }];
}

def Attn_PackedSeqOp : Attn_Op<"packed_seq", [Pure]> {
  let summary = "variable-length sequences packed one after another";
  let description = [{
    The logical `[batch, heads, seq, dim]` tensor of variable-length
    sequences stored as FlashAttention's `varlen` API takes them: `tokens` is
    `[total, heads, dim]` with the rows of every sequence one after another,
    `cu_seqlens` is `[batch + 1]` int32 prefix sums:

    ```
    result[b, h, i, d] = tokens[cu_seqlens[b] + i, h, d]
    ```

    for `i < cu_seqlens[b + 1] - cu_seqlens[b]`; sequence `b` has exactly
    that many rows (the rest do not exist, so masks align at each
    sequence's own lengths). The result's batch and sequence sizes are
    dynamic in IR. Code generation reads the tokens through the prefix
    sums; the op is never materialized. The query, key and value of one
    attention are all packed views or none, the key and value through one
    `cu_seqlens`.

    ```mlir
    %q = attn.packed_seq %q_tokens, %cu_q
        : tensor<?x32x128xbf16>, tensor<?xi32> -> tensor<?x32x?x128xbf16>
    ```
  }];
  let arguments = (ins Attn_TokensTensor:$tokens,
                       Attn_LengthsTensor:$cu_seqlens);
  let results = (outs Attn_Tensor4:$result);
  let assemblyFormat = [{
    $tokens `,` $cu_seqlens attr-dict `:` type($tokens) `,`
    type($cu_seqlens) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Unfused chain
//===----------------------------------------------------------------------===//

def Attn_MatmulOp : Attn_Op<"matmul", [Pure]> {
  let summary = "batched, head-broadcast matrix product";
  let description = [{
    `C[b, h, i, j] = sum_k A[b, h, i, k] * B[b, h / g, k, j]` where
    `g = heads(A) / heads(B)` (grouped-query attention when `g > 1`). With
    `transpose_rhs` the right operand is read as `B[b, h / g, j, k]`, which is
    how `Q K^T` is written. Accumulation is in f32.

    ```mlir
    %s = attn.matmul %q, %k transpose_rhs
        : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16> -> tensor<?x?x?x?xf32>
    ```
  }];
  let arguments = (ins Attn_Tensor4:$lhs, Attn_Tensor4:$rhs, UnitAttr:$transpose_rhs);
  let results = (outs Attn_Tensor4:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`transpose_rhs` $transpose_rhs^)? attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Attn_ScaleOp : Attn_Op<"scale", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "multiply every score by a positive constant";
  let description = [{
    `S' = factor * S`; typically `factor = 1 / sqrt(head_dim)`. The factor
    must be finite and positive (a negative factor would turn masked `-inf`
    scores into `+inf`).

    ```mlir
    %t = attn.scale %s by 0.125 : tensor<?x?x?x?xf32>
    ```
  }];
  let arguments = (ins Attn_Tensor4:$input, F64Attr:$factor);
  let results = (outs Attn_Tensor4:$result);
  let assemblyFormat = "$input `by` $factor attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Attn_ScoreModOp : Attn_Op<"score_mod", [Pure, SingleBlockImplicitTerminator<"YieldOp">,
                                             AllTypesMatch<["input", "result"]>]> {
  let summary = "element-wise score modifier";
  let description = [{
    Applies the region to every score. The region's arguments are the score
    (f32) and its indices `b, h, q, k` (index); it yields the new score. Soft
    capping, ALiBi and relative position biases are score modifiers.

    ```mlir
    %t = attn.score_mod %s : tensor<?x?x?x?xf32> {
    ^bb0(%x: f32, %b: index, %h: index, %q: index, %k: index):
      %c = arith.constant 30.0 : f32
      %d = arith.divf %x, %c : f32
      %e = math.tanh %d : f32
      %r = arith.mulf %c, %e : f32
      attn.yield %r : f32
    }
    ```
  }];
  let arguments = (ins Attn_Tensor4:$input);
  let results = (outs Attn_Tensor4:$result);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$input attr-dict `:` type($input) $body";
  let hasRegionVerifier = 1;
}

def Attn_MaskOp : Attn_Op<"mask", [Pure, AllTypesMatch<["input", "result"]>,
                                   SingleBlockImplicitTerminator<"YieldOp">]> {
  let summary = "set disallowed scores to -inf";
  let description = [{
    Scores at positions the mask disallows become `-inf`, so softmax gives
    them zero weight. Query `q` of `n` and key `k` of `m` are aligned at the
    bottom-right corner (as FlashAttention-2 does when `n != m`):
    - `causal`: allowed when `k <= q + (m - n)`;
    - `window` with `window_left`, `window_right`: allowed when
      `q + (m - n) - left <= k <= q + (m - n) + right`;
    - `lengths` (key padding) with a `tensor<?xi32>` of per-batch key lengths:
      allowed when `k < lengths[b]`;
    - `blocks` (block-sparse) with a layout `tensor<H x QB x KB x i8>` (H is 1
      or the number of heads) and `block_q`, `block_k`: allowed when
      `layout[h, q / block_q, k / block_k] != 0`;
    - `where`: allowed where the region (arguments `b, h, q, k`) yields true.

    ```mlir
    %t = attn.mask causal %s : tensor<?x?x?x?xf32>
    %u = attn.mask lengths %t, %len : tensor<?xi32> : tensor<?x?x?x?xf32>
    %w = attn.mask where %u : tensor<?x?x?x?xf32> {
    ^bb0(%b: index, %h: index, %q: index, %k: index):
      %c = arith.cmpi ule, %k, %q : index
      attn.yield %c : i1
    }
    ```
  }];
  let arguments = (ins Attn_MaskKindAttr:$kind, Attn_Tensor4:$input,
                       Optional<AnyRankedTensor>:$aux,
                       OptionalAttr<I64Attr>:$window_left,
                       OptionalAttr<I64Attr>:$window_right,
                       OptionalAttr<I64Attr>:$block_q,
                       OptionalAttr<I64Attr>:$block_k);
  let results = (outs Attn_Tensor4:$result);
  let regions = (region MaxSizedRegion<1>:$predicate);
  let assemblyFormat = [{
    $kind $input (`,` $aux^ `:` type($aux))? attr-dict `:` type($input) ($predicate^)?
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "MaskKind":$kind, "Value":$input, "Value":$aux)>
  ];
}

def Attn_SoftmaxOp : Attn_Op<"softmax", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "softmax along the key dimension";
  let description = [{
    `P[b, h, i, j] = exp(S[b, h, i, j] - max_j S) / sum_j exp(S - max_j S)`.
    A row whose scores are all `-inf` gives all-zero probabilities.

    With `sinks` (attention sinks, one f32 logit per query head), each row's
    denominator also holds `exp(sinks[h])`: the sink takes probability mass
    and attends to nothing, so `sum_j P[b, h, i, j] < 1`, and a row whose
    scores are all `-inf` still gives all-zero probabilities.

    ```mlir
    %p = attn.softmax %s : tensor<?x?x?x?xf32>
    %p = attn.softmax %s sinks %sinks : tensor<?xf32> : tensor<?x?x?x?xf32>
    ```
  }];
  let arguments = (ins Attn_Tensor4:$input, Optional<Attn_SinksTensor>:$sinks);
  let results = (outs Attn_Tensor4:$result);
  let assemblyFormat =
      "$input (`sinks` $sinks^ `:` type($sinks))? attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Attn_DropoutOp : Attn_Op<"dropout", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "zero probabilities at random, rescale the rest";
  let description = [{
    Each element is kept with probability `1 - probability` and scaled by
    `1 / (1 - probability)`. The random bits come from a counter-based Philox
    generator keyed by `seed` and `offset`, so the same seed and offset
    reproduce the same mask (as the backward pass needs).

    ```mlir
    %d = attn.dropout %p, %seed, %offset probability 0.1 : tensor<?x?x?x?xf32>
    ```
  }];
  let arguments = (ins Attn_Tensor4:$input, I64:$seed, I64:$offset, F64Attr:$probability);
  let results = (outs Attn_Tensor4:$result);
  let assemblyFormat = "$input `,` $seed `,` $offset `probability` $probability attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Attn_LookupOp : Attn_Op<"lookup", [Pure]> {
  let summary = "an element of a table, in a score modifier or mask region";
  let description = [{
    Reads `table[indices]` inside a score-modifier or mask-predicate region:
    f32 for a float table (bf16/f16 elements are widened), `index` for an
    integer one. Every index is clamped into `[0, size)` of its dimension
    before the read, so any index expression stays inside the table. In an
    `attn.score_mod` / `attn.mask` region the table is a value from above;
    in `attn.fused_attention` / `attn.tiled_attention` (isolated from
    above) it is one of the region's trailing arguments, which stand for
    the op's `tables` operands in order.

    ```mlir
    %x = attn.lookup %rel[%h, %i] : tensor<?x257xf32> -> f32
    ```
  }];
  let arguments = (ins Attn_TableTensor:$table, Variadic<Index>:$indices);
  let results = (outs AnyTypeOf<[F32, Index]>:$result);
  let assemblyFormat = "$table `[` $indices `]` attr-dict `:` type($table) `->` type($result)";
  let hasVerifier = 1;
}

def Attn_YieldOp : Attn_Op<"yield", [Pure, Terminator,
                                     ParentOneOf<["ScoreModOp", "MaskOp", "FusedAttentionOp", "TiledAttentionOp"]>]> {
  let summary = "yields the value of a score modifier or mask predicate region";
  let arguments = (ins Variadic<AnyType>:$values);
  let builders = [OpBuilder<(ins), [{ /* empty */ }]>];
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

//===----------------------------------------------------------------------===//
// Fused and tiled attention
//===----------------------------------------------------------------------===//

class Attn_AttentionBase<string mnemonic, list<Trait> traits = [], dag extraArguments = (ins)>
    : Attn_Op<mnemonic, !listconcat(traits, [AttrSizedOperandSegments])> {
  let arguments = !con((ins Attn_Tensor4:$query, Attn_Tensor4:$key, Attn_Tensor4:$value,
                           Optional<Attn_LengthsTensor>:$kv_lengths,
                           Optional<Attn_LayoutTensor>:$block_layout,
                           Optional<I64>:$seed, Optional<I64>:$offset,
                           Optional<Attn_SinksTensor>:$sinks,
                           Variadic<Attn_TableTensor>:$tables,
                           F64Attr:$scale,
                           UnitAttr:$causal,
                           OptionalAttr<I64Attr>:$window_left,
                           OptionalAttr<I64Attr>:$window_right,
                           OptionalAttr<I64Attr>:$block_q,
                           OptionalAttr<I64Attr>:$block_k,
                           DefaultValuedAttr<F64Attr, "0.0">:$dropout),
                       extraArguments);
  let results = (outs Attn_Tensor4:$output, Attn_LseTensor:$logsumexp);
  let regions = (region MaxSizedRegion<1>:$score_mod, MaxSizedRegion<1>:$mask);
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Number of query heads sharing one K/V head (1 without GQA; 0 if unknown).
    int64_t getGroupSize();
    int64_t getHeadDim() { return getQuery().getType().getDimSize(3); }
    int64_t getHeadDimV() { return getValue().getType().getDimSize(3); }
    Type getElementType() { return getQuery().getType().getElementType(); }
    bool hasScoreMod() { return !getScoreMod().empty(); }
    bool hasMaskPredicate() { return !getMask().empty(); }
  }];
}

def Attn_FusedAttentionOp : Attn_AttentionBase<"fused_attention", [Pure, IsolatedFromAbove]> {
  let summary = "the whole attention chain in one op";
  let description = [{
    `O = dropout(softmax(mask(score_mod(scale * Q K^T)))) V` and the natural
    log-sum-exp of each row of masked scores (before dropout). The masks are
    the conjunction of `causal`, the window (`window_left`/`window_right`),
    key padding (`kv_lengths`), block sparsity (`block_layout` with
    `block_q`/`block_k`) and the `mask` region's predicate; see `attn.mask`
    for their exact meaning. Rows with no allowed key give `O = 0` and
    `logsumexp = -inf`. With `sinks` (f32, one logit per query head) each
    row's softmax denominator also holds `exp(sinks[h])` (see
    `attn.softmax`) and so does the log-sum-exp: a row with no allowed key
    then gives `O = 0` and `logsumexp = sinks[h]`.

    ```mlir
    %o, %lse = attn.fused_attention %q, %k, %v causal scale 0.088388
        : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>
        -> tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>
    ```
  }];
  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`lengths` $kv_lengths^ `:` type($kv_lengths))?
    (`layout` $block_layout^ `:` type($block_layout))?
    (`seed` $seed^)? (`offset` $offset^)?
    (`sinks` $sinks^ `:` type($sinks))?
    (`tables` `(` $tables^ `:` type($tables) `)`)?
    (`causal` $causal^)? `scale` $scale attr-dict
    `:` type($query) `,` type($key) `,` type($value) `->` type($output) `,` type($logsumexp)
    (`score_mod` $score_mod^)? (`mask` $mask^)?
  }];
}

def Attn_TiledAttentionOp : Attn_AttentionBase<"tiled_attention", [Pure, IsolatedFromAbove],
    (ins Attn_TilingAttr:$tiling, Attn_BlockSkipAttr:$block_skip)> {
  let summary = "attention tiled for on-chip memory (FlashAttention forward)";
  let description = [{
    The tiled form of `attn.fused_attention`, which code generation consumes.
    One thread block owns `block_m` query rows and keeps them in shared
    memory; it walks the K/V blocks of `block_n` rows, `stages` deep in a copy
    pipeline, and keeps the online-softmax state per row:

    ```
    for each K/V block j in [lo(i), hi(i)):        // block_skip bounds
      S    = scale * Q_i K_j^T ; S = mask(score_mod(S))
      mNew = max(m, rowmax(S))
      P    = exp(S - mNew) ; l = exp(m - mNew) * l + rowsum(P)
      acc  = exp(m - mNew) * acc + dropout(P) V_j ; m = mNew
    O_i = acc / l ; logsumexp_i = m + log(l)
    ```

    `block_skip` says which blocks are never loaded: `causal` and `window`
    bound the loop per query block, `sparse` skips blocks whose layout
    entries are all zero, `where` skips tiles on which the mask predicate
    is false everywhere (and tests no element of tiles on which it is true
    everywhere), as interval arithmetic over the tile's indices shows.

    ```mlir
    %o, %lse = attn.tiled_attention %q, %k, %v causal scale 0.125
        tiling #attn.tiling<family = "fwd.mma_sync", block_m = 128, block_n = 64, warps = 4, stages = 2, smem_bytes = 49152>
        skip causal : ...
    ```
  }];
  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`lengths` $kv_lengths^ `:` type($kv_lengths))?
    (`layout` $block_layout^ `:` type($block_layout))?
    (`seed` $seed^)? (`offset` $offset^)?
    (`sinks` $sinks^ `:` type($sinks))?
    (`tables` `(` $tables^ `:` type($tables) `)`)?
    (`causal` $causal^)? `scale` $scale `tiling` $tiling `skip` $block_skip attr-dict
    `:` type($query) `,` type($key) `,` type($value) `->` type($output) `,` type($logsumexp)
    (`score_mod` $score_mod^)? (`mask` $mask^)?
  }];
}

#endif // ATTN_OPS_TD
