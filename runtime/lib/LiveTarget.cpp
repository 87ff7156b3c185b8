//===- LiveTarget.cpp - the target description of the current GPU --------===//
#include "attnc/CudaDriver.h"

#include "attn/Model/Target.h"

using namespace attnc;

Expected<mlir::attn::model::TargetInfo> attnc::liveTarget(std::string *remark) {
  Expected<DeviceInfo> dev = currentDevice();
  if (!dev)
    return dev.takeError();
  mlir::attn::model::TargetInfo t = mlir::attn::model::fromDevice(
      dev->ccMajor, dev->ccMinor, dev->smCount, int(dev->maxSmemPerBlockOptin),
      int(dev->maxSmemPerSm));
  if (remark)
    *remark = "live device " + dev->name + ": " + t.notes;
  return t;
}
