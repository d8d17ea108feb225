# The gateway image. NuGet and npm packages restore by name; nothing else is downloaded.
#   docker build -t moderation-gateway .                                  CPU image
#   docker build -t moderation-gateway:cuda --build-arg FLAVOR=cuda .      CUDA 13 image (ONNX Runtime GPU build)
ARG FLAVOR=cpu

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG FLAVOR
# npm: the bootstrap exports the Llama 2 and Llama 3 tokenizer files from npm packages by name.
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN ./eng/bootstrap.sh && gpu=false; [ "$FLAVOR" = "cuda" ] && gpu=true; \
    dotnet publish src/Gateway -c Release -r linux-x64 --self-contained -p:OnnxRuntimeGpu=$gpu -o /app

FROM mcr.microsoft.com/dotnet/runtime-deps:10.0 AS cpu
# The CUDA flavour runs on NVIDIA's CUDA 13 runtime image with cuDNN 9 (the libraries the CUDA provider loads).
FROM nvidia/cuda:13.0.0-cudnn-runtime-ubuntu24.04 AS cuda

FROM ${FLAVOR}
WORKDIR /app
COPY --from=build /app .
# The Llama 2 and Llama 3 tokenizers the bootstrap exports, where appsettings.json's Gateway:Tokenizers expects them.
COPY --from=build /src/eng/.cache/tokenizers/llama2/ ./tokenizers/llama2/
COPY --from=build /src/eng/.cache/tokenizers/llama3/ ./tokenizers/llama3/
# Urls, not ASPNETCORE_URLS: appsettings.json's Urls (127.0.0.1) overrides the ASPNETCORE_ variable, but not a plain
# environment variable.
ENV Urls=http://0.0.0.0:8080
EXPOSE 8080
USER 1654
ENTRYPOINT ["./gateway"]
CMD ["serve"]
