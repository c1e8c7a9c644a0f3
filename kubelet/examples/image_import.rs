//! What `minik8s image import` does, standalone: imports OCI/Docker archives into a running
//! containerd's `k8s.io` namespace, then lists the images CRI sees.
//!
//!   cargo run -p kubelet --example image_import -- SOCKET FILE.tar...

use std::path::PathBuf;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let socket = PathBuf::from(args.next().ok_or("usage: image_import SOCKET FILE.tar...")?);
    for file in args {
        let done = kubelet::images::import_file(&socket, file.as_ref()).await?;
        println!("{file}: {} ({} new blobs, {} bytes)", done.images.join(", "), done.blobs_written, done.bytes_written);
    }
    for image in kubelet::images::list(&socket).await? {
        println!("{}\t{}\t{}", image.repo_tags.join(","), image.id, image.size);
    }
    Ok(())
}
