//===- LiveTarget.cpp - the target description of the current GPU --------===//
#include "attnc/CudaDriver.h"

#include "attn/Model/Target.h"

using namespace attnc;

Expected<mlir::attn::model::TargetInfo> attnc::liveTarget(std::string *remark) {
  Expected<DeviceInfo> dev = currentDevice();
  if (!dev)
    return dev.takeError();
  mlir::attn::model::DeviceProperties p;
  p.name = dev->name;
  p.ccMajor = dev->ccMajor;
  p.ccMinor = dev->ccMinor;
  p.smCount = dev->smCount;
  p.smemOptinPerBlockBytes = dev->maxSmemPerBlockOptin;
  p.smemPerSmBytes = dev->maxSmemPerSm;
  p.regsPerSm = dev->regsPerSm;
  p.maxThreadsPerSm = dev->maxThreadsPerSm;
  p.maxBlocksPerSm = dev->maxBlocksPerSm;
  p.l2Bytes = dev->l2Bytes;
  p.smClockKHz = dev->smClockKHz;
  p.memClockKHz = dev->memClockKHz;
  p.memBusWidthBits = dev->memBusWidthBits;
  std::string why;
  mlir::attn::model::TargetInfo t = mlir::attn::model::fromDevice(p, &why);
  if (remark)
    *remark = "live device " + dev->name + ": " + why;
  return t;
}
