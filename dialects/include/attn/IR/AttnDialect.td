//===- AttnDialect.td - the attn dialect -------------------*- tablegen -*-===//
#ifndef ATTN_DIALECT_TD
#define ATTN_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let summary = "Attention as a chain of matmul, mask, softmax, dropout and matmul";
  let description = [{
    The `attn` dialect states scaled dot-product attention the way the
    FlashAttention paper writes it: `S = Q K^T`, an optional scale, score
    modifiers and masks, `P = softmax(S)`, optional dropout, `O = P V`.
    The unfused ops describe that chain on rank-4 tensors
    `[batch, heads, seq, dim]`; `attn.fused_attention` carries the whole chain
    in one op so the N x N scores never reach HBM, and
    `attn.tiled_attention` is its tiled form, ready for code generation.
  }];
  let cppNamespace = "::mlir::attn";
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect"];
  let useDefaultAttributePrinterParser = 1;
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

class Attn_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Attn_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Attn_MaskKind : I32EnumAttr<"MaskKind", "kind of attention mask", [
    I32EnumAttrCase<"causal", 0>,
    I32EnumAttrCase<"window", 1>,
    I32EnumAttrCase<"lengths", 2>,
    I32EnumAttrCase<"blocks", 3>,
    I32EnumAttrCase<"where", 4>]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}
def Attn_MaskKindAttr : EnumAttr<Attn_Dialect, Attn_MaskKind, "mask_kind">;

def Attn_BlockSkip : I32BitEnumAttr<"BlockSkip",
    "which masks the K/V loop uses to skip blocks that are fully masked", [
    I32BitEnumAttrCaseNone<"none">,
    I32BitEnumAttrCaseBit<"causal", 0>,
    I32BitEnumAttrCaseBit<"window", 1>,
    I32BitEnumAttrCaseBit<"lengths", 2>,
    I32BitEnumAttrCaseBit<"sparse", 3>,
    I32BitEnumAttrCaseBit<"where", 4>]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
  let separator = "|";
}

def Attn_BlockSkipAttr : EnumAttr<Attn_Dialect, Attn_BlockSkip, "block_skip">;

def Attn_TilingAttr : Attn_Attr<"Tiling", "tiling"> {
  let summary = "tile configuration of a tiled attention kernel";
  let description = [{
    `block_m` query rows (Br) and `block_n` key rows (Bc) per tile, the number
    of warps of a thread block and the depth of the K/V copy pipeline.
    `smem_bytes` is the shared memory the SRAM model says the tiles need.
    `family` names the kernel family the tiles were chosen for (its tile
    space, formulas and device template; attn/Model/KernelFamily.h).
  }];
  let parameters = (ins StringRefParameter<"kernel family">:$family,
                        "int64_t":$block_m, "int64_t":$block_n,
                        "int64_t":$warps, "int64_t":$stages,
                        "int64_t":$smem_bytes);
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // ATTN_DIALECT_TD
