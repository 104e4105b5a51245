export { SessionsPage } from './components/SessionsPage';
