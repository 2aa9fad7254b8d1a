{
  "targets": [{
    "target_name": "resnext_native",
    "sources": ["src/addon.cc", "src/conv.cc", "src/layout.cc", "src/layout_policy.cc", "src/conv_nhwc.cc", "src/elementwise.cc", "src/pool_loss.cc", "src/grouped_direct.cc"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "libraries": ["-ldnnl", "-fopenmp"],
    "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-fexceptions", "-fopenmp"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"]
  }]
}
