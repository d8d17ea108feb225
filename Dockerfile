# Build: the bootstrap fetches the ONNX Runtime binding and native library by package name, so the SDK stage needs npm.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm zip && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN ./eng/bootstrap.sh && dotnet publish src/Gateway -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
# The Llama 2 and Llama 3 tokenizers the bootstrap exports, where appsettings.json's Gateway:Tokenizers expects them.
COPY --from=build /src/eng/.cache/tokenizers/llama2/ ./tokenizers/llama2/
COPY --from=build /src/eng/.cache/tokenizers/llama3/ ./tokenizers/llama3/
ENV ASPNETCORE_URLS=http://0.0.0.0:8080
EXPOSE 8080
USER app
ENTRYPOINT ["./gateway"]
CMD ["serve"]
