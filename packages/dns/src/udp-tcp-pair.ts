// DNS takes one port on both transports. With port 0 the kernel picks a free UDP port, but
// its TCP twin may be taken (by any connection's local end), so another pair is tried.

import dgram from 'dgram';
import net from 'net';

export interface UdpTcpPair {
  udp: dgram.Socket;
  tcp: net.Server;
  port: number;
}

/** Binds UDP and listens TCP on `address`:`port`; with port 0, on a free port that both take. */
export async function listenUdpTcp(address: string, port: number, onConnection: (socket: net.Socket) => void): Promise<UdpTcpPair> {
  for (let attempt = 0; ; attempt++) {
    const udp = dgram.createSocket('udp4');
    const udpPort = await new Promise<number>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, address, () => resolve(udp.address().port));
    });
    const tcp = net.createServer(onConnection);
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(udpPort, address, () => resolve());
      });
      return { udp, tcp, port: udpPort };
    } catch (err) {
      udp.close();
      if (port === 0 && attempt < 10 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
      throw err;
    }
  }
}
